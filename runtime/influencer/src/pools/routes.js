"use strict";
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
exports.poolsRouter = poolsRouter;
// /api/v1/pools: create and administer (influencer), search and read (public), stake, unstake and
// claim (any signed-in wallet; Idempotency-Key required).
var express_1 = require("express");
var config_1 = require("@twist/shared/config");
var service_1 = require("@twist/service");
var identity_1 = require("../identity");
var http_1 = require("../ledger/http");
var tiers_1 = require("./tiers");
var text = function (max) { return config_1.Joi.string().trim().max(max); };
var createSchema = config_1.Joi.object({
    name: text(80).min(3).required(),
    description: text(500).allow("").default(""),
    revenueShareBps: config_1.Joi.number().integer().strict().min(0).max(tiers_1.MAX_REVENUE_SHARE_BPS).required(),
    minStake: (0, http_1.amountField)().required(),
});
var updateSchema = config_1.Joi.object({
    name: text(80).min(3),
    description: text(500).allow(""),
    revenueShareBps: config_1.Joi.number().integer().strict().min(0).max(tiers_1.MAX_REVENUE_SHARE_BPS),
    minStake: (0, http_1.amountField)(),
}).min(1);
var listSchema = config_1.Joi.object({
    q: text(100).allow("").empty(""),
    sort: config_1.Joi.string().valid("total_staked", "stakers", "apy").default("total_staked"),
    limit: config_1.Joi.number().integer().min(1).max(100).default(20),
    cursor: config_1.Joi.string().max(512),
});
var amountSchema = config_1.Joi.object({ amount: (0, http_1.amountField)().required() });
var claimSchema = config_1.Joi.object({ amount: (0, http_1.amountField)() });
function poolsRouter(pools, sequelize, auth) {
    var _this = this;
    var router = (0, express_1.Router)();
    router.post("/api/v1/pools", auth.requireInfluencer, function (req, res) { return __awaiter(_this, void 0, void 0, function () {
        var body, _a, _b;
        var _c;
        return __generator(this, function (_d) {
            switch (_d.label) {
                case 0:
                    body = (0, service_1.validate)(createSchema, req.body);
                    _b = (_a = res.status(201)).json;
                    _c = {};
                    return [4 /*yield*/, pools.create((0, identity_1.influencerIdOf)(req), body)];
                case 1:
                    _b.apply(_a, [(_c.pool = _d.sent(), _c)]);
                    return [2 /*return*/];
            }
        });
    }); });
    router.patch("/api/v1/pools/:id", auth.requireInfluencer, function (req, res) { return __awaiter(_this, void 0, void 0, function () {
        var body, _a, _b;
        var _c;
        return __generator(this, function (_d) {
            switch (_d.label) {
                case 0:
                    body = (0, service_1.validate)(updateSchema, req.body);
                    _b = (_a = res).json;
                    _c = {};
                    return [4 /*yield*/, pools.update((0, identity_1.influencerIdOf)(req), String(req.params.id), body)];
                case 1:
                    _b.apply(_a, [(_c.pool = _d.sent(), _c)]);
                    return [2 /*return*/];
            }
        });
    }); });
    router.get("/api/v1/pools", function (req, res) { return __awaiter(_this, void 0, void 0, function () {
        var _a, _b;
        return __generator(this, function (_c) {
            switch (_c.label) {
                case 0:
                    _b = (_a = res).json;
                    return [4 /*yield*/, pools.list((0, service_1.validate)(listSchema, req.query))];
                case 1:
                    _b.apply(_a, [_c.sent()]);
                    return [2 /*return*/];
            }
        });
    }); });
    router.get("/api/v1/pools/:id", function (req, res) { return __awaiter(_this, void 0, void 0, function () {
        var _a, _b;
        var _c;
        return __generator(this, function (_d) {
            switch (_d.label) {
                case 0:
                    _b = (_a = res).json;
                    _c = {};
                    return [4 /*yield*/, pools.get(String(req.params.id))];
                case 1:
                    _b.apply(_a, [(_c.pool = _d.sent(), _c)]);
                    return [2 /*return*/];
            }
        });
    }); });
    var _loop_1 = function (op) {
        router.post("/api/v1/pools/:id/".concat(op), auth.requireIdentity, function (req, res) { return __awaiter(_this, void 0, void 0, function () {
            var amount;
            var _this = this;
            return __generator(this, function (_a) {
                switch (_a.label) {
                    case 0:
                        amount = (0, service_1.validate)(amountSchema, req.body).amount;
                        return [4 /*yield*/, (0, http_1.idempotentPost)(sequelize, req, res, function (t, wallet, opId) { return __awaiter(_this, void 0, void 0, function () {
                                var _a;
                                return __generator(this, function (_b) {
                                    switch (_b.label) {
                                        case 0:
                                            _a = {
                                                status: 200
                                            };
                                            return [4 /*yield*/, pools[op](t, wallet, String(req.params.id), amount, opId)];
                                        case 1: return [2 /*return*/, (_a.body = _b.sent(),
                                                _a)];
                                    }
                                });
                            }); })];
                    case 1:
                        _a.sent();
                        return [4 /*yield*/, pools.cache.invalidate()];
                    case 2:
                        _a.sent();
                        return [2 /*return*/];
                }
            });
        }); });
    };
    for (var _i = 0, _a = ["stake", "unstake"]; _i < _a.length; _i++) {
        var op = _a[_i];
        _loop_1(op);
    }
    router.post("/api/v1/pools/:id/claim", auth.requireIdentity, function (req, res) { return __awaiter(_this, void 0, void 0, function () {
        var amount;
        var _this = this;
        var _a;
        return __generator(this, function (_b) {
            switch (_b.label) {
                case 0:
                    amount = (0, service_1.validate)(claimSchema, (_a = req.body) !== null && _a !== void 0 ? _a : {}).amount;
                    return [4 /*yield*/, (0, http_1.idempotentPost)(sequelize, req, res, function (t, wallet, opId) { return __awaiter(_this, void 0, void 0, function () {
                            var _a;
                            return __generator(this, function (_b) {
                                switch (_b.label) {
                                    case 0:
                                        _a = {
                                            status: 200
                                        };
                                        return [4 /*yield*/, pools.claim(t, wallet, String(req.params.id), amount !== null && amount !== void 0 ? amount : null, opId)];
                                    case 1: return [2 /*return*/, (_a.body = _b.sent(),
                                            _a)];
                                }
                            });
                        }); })];
                case 1:
                    _b.sent();
                    return [2 /*return*/];
            }
        });
    }); });
    return router;
}
