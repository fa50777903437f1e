"use strict";
var __assign = (this && this.__assign) || function () {
    __assign = Object.assign || function(t) {
        for (var s, i = 1, n = arguments.length; i < n; i++) {
            s = arguments[i];
            for (var p in s) if (Object.prototype.hasOwnProperty.call(s, p))
                t[p] = s[p];
        }
        return t;
    };
    return __assign.apply(this, arguments);
};
var __awaiter = (this && this.__awaiter) || function (thisArg, _arguments, P, generator) {
    function adopt(value) { return value instanceof P ? value : new P(function (resolve) { resolve(value); }); }
    return new (P || (P = Promise))(function (resolve, reject) {
        function fulfilled(value) { try { step(generator.next(value)); } catch (e) { reject(e); } }
        function rejected(value) { try { step(generator["throw"](value)); } catch (e) { reject(e); } }
        function step(result) { result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected); }
        step((generator = generator.apply(thisArg, _arguments || [])).next());
    });
};
var __generator = (this && this.__generator) || function (thisArg, body) {
    var _ = { label: 0, sent: function() { if (t[0] & 1) throw t[1]; return t[1]; }, trys: [], ops: [] }, f, y, t, g = Object.create((typeof Iterator === "function" ? Iterator : Object).prototype);
    return g.next = verb(0), g["throw"] = verb(1), g["return"] = verb(2), typeof Symbol === "function" && (g[Symbol.iterator] = function() { return this; }), g;
    function verb(n) { return function (v) { return step([n, v]); }; }
    function step(op) {
        if (f) throw new TypeError("Generator is already executing.");
        while (g && (g = 0, op[0] && (_ = 0)), _) try {
            if (f = 1, y && (t = op[0] & 2 ? y["return"] : op[0] ? y["throw"] || ((t = y["return"]) && t.call(y), 0) : y.next) && !(t = t.call(y, op[1])).done) return t;
            if (y = 0, t) op = [op[0] & 2, t.value];
            switch (op[0]) {
                case 0: case 1: t = op; break;
                case 4: _.label++; return { value: op[1], done: false };
                case 5: _.label++; y = op[1]; op = [0]; continue;
                case 7: op = _.ops.pop(); _.trys.pop(); continue;
                default:
                    if (!(t = _.trys, t = t.length > 0 && t[t.length - 1]) && (op[0] === 6 || op[0] === 2)) { _ = 0; continue; }
                    if (op[0] === 3 && (!t || (op[1] > t[0] && op[1] < t[3]))) { _.label = op[1]; break; }
                    if (op[0] === 6 && _.label < t[1]) { _.label = t[1]; t = op; break; }
                    if (t && _.label < t[2]) { _.label = t[2]; _.ops.push(op); break; }
                    if (t[2]) _.ops.pop();
                    _.trys.pop(); continue;
            }
            op = body.call(thisArg, _);
        } catch (e) { op = [6, e]; y = 0; } finally { f = t = 0; }
        if (op[0] & 5) throw op[1]; return { value: op[0] ? op[1] : void 0, done: true };
    }
};
Object.defineProperty(exports, "__esModule", { value: true });
exports.payoutsRouter = payoutsRouter;
// /api/v1/payouts: own balance, request (Idempotency-Key; destination is always the caller's own
// verified wallet), list and read own payouts. Another wallet's payout is 404.
var express_1 = require("express");
var config_1 = require("@twist/shared/config");
var amount_1 = require("@twist/shared/amount");
var service_1 = require("@twist/service");
var identity_1 = require("../identity");
var http_1 = require("../ledger/http");
var requestSchema = config_1.Joi.object({ amount: (0, http_1.amountField)().required() });
var listSchema = config_1.Joi.object({ limit: config_1.Joi.number().integer().min(1).max(100).default(20), cursor: config_1.Joi.string().max(64) });
function payoutsRouter(payouts, queue, sequelize, auth, logger) {
    var _this = this;
    var router = (0, express_1.Router)();
    router.get("/api/v1/payouts/balance", auth.requireIdentity, function (req, res) { return __awaiter(_this, void 0, void 0, function () {
        var rules, _a, _b, _c;
        return __generator(this, function (_d) {
            switch (_d.label) {
                case 0:
                    rules = payouts.rules;
                    _b = (_a = res).json;
                    _c = [{}];
                    return [4 /*yield*/, payouts.balance((0, identity_1.identityOf)(req).walletAddress)];
                case 1:
                    _b.apply(_a, [__assign.apply(void 0, [__assign.apply(void 0, _c.concat([(_d.sent())])), { rules: { minAmount: (0, amount_1.formatAmount)(rules.minAmount), feeFlat: (0, amount_1.formatAmount)(rules.feeFlat), feeBps: rules.feeBps } }])]);
                    return [2 /*return*/];
            }
        });
    }); });
    router.post("/api/v1/payouts", auth.requireIdentity, function (req, res) { return __awaiter(_this, void 0, void 0, function () {
        var amount, created, id_1;
        var _this = this;
        return __generator(this, function (_a) {
            switch (_a.label) {
                case 0:
                    amount = (0, service_1.validate)(requestSchema, req.body).amount;
                    payouts.quote(amount);
                    created = null;
                    return [4 /*yield*/, (0, http_1.idempotentPost)(sequelize, req, res, function (t, wallet) { return __awaiter(_this, void 0, void 0, function () {
                            return __generator(this, function (_a) {
                                switch (_a.label) {
                                    case 0: return [4 /*yield*/, payouts.request(t, wallet, amount)];
                                    case 1:
                                        created = _a.sent();
                                        return [2 /*return*/, { status: 202, body: { payout: created } }];
                                }
                            });
                        }); })];
                case 1:
                    _a.sent();
                    if (!created) return [3 /*break*/, 3];
                    id_1 = created.id;
                    // After commit. A lost enqueue is not lost money: the worker's sweep picks pending payouts up.
                    return [4 /*yield*/, queue.enqueue(id_1).catch(function (err) { return logger.warn({ err: err, payoutId: id_1 }, "settlement enqueue failed; the sweep will retry"); })];
                case 2:
                    // After commit. A lost enqueue is not lost money: the worker's sweep picks pending payouts up.
                    _a.sent();
                    _a.label = 3;
                case 3: return [2 /*return*/];
            }
        });
    }); });
    router.get("/api/v1/payouts", auth.requireIdentity, function (req, res) { return __awaiter(_this, void 0, void 0, function () {
        var q, _a, _b;
        return __generator(this, function (_c) {
            switch (_c.label) {
                case 0:
                    q = (0, service_1.validate)(listSchema, req.query);
                    _b = (_a = res).json;
                    return [4 /*yield*/, payouts.list((0, identity_1.identityOf)(req).walletAddress, q.limit, q.cursor)];
                case 1:
                    _b.apply(_a, [_c.sent()]);
                    return [2 /*return*/];
            }
        });
    }); });
    router.get("/api/v1/payouts/:id", auth.requireIdentity, function (req, res) { return __awaiter(_this, void 0, void 0, function () {
        var _a, _b;
        var _c;
        return __generator(this, function (_d) {
            switch (_d.label) {
                case 0:
                    _b = (_a = res).json;
                    _c = {};
                    return [4 /*yield*/, payouts.get((0, identity_1.identityOf)(req).walletAddress, String(req.params.id))];
                case 1:
                    _b.apply(_a, [(_c.payout = _d.sent(), _c)]);
                    return [2 /*return*/];
            }
        });
    }); });
    return router;
}
