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
exports.meRouter = meRouter;
// /api/v1/me: the caller's balances and stake positions (wallet from the verified JWT only).
var express_1 = require("express");
var amount_1 = require("@twist/shared/amount");
var identity_1 = require("../identity");
function meRouter(ledger, pools, auth) {
    var _this = this;
    var router = (0, express_1.Router)();
    router.get("/api/v1/me/balance", auth.requireIdentity, function (req, res) { return __awaiter(_this, void 0, void 0, function () {
        var totals, _i, _a, a, total;
        return __generator(this, function (_b) {
            switch (_b.label) {
                case 0:
                    totals = { available: 0n, staked: 0n, claimable: 0n, pendingPayout: 0n };
                    _i = 0;
                    return [4 /*yield*/, ledger.accountsOf((0, identity_1.identityOf)(req).walletAddress)];
                case 1:
                    _a = _b.sent();
                    _b.label = 2;
                case 2:
                    if (!(_i < _a.length)) return [3 /*break*/, 4];
                    a = _a[_i];
                    if (a.kind === "available")
                        totals.available += a.balance;
                    else if (a.kind === "stake")
                        totals.staked += a.balance;
                    else if (a.kind === "pool_rewards")
                        totals.claimable += a.balance;
                    else if (a.kind === "payout_pending")
                        totals.pendingPayout += a.balance;
                    _b.label = 3;
                case 3:
                    _i++;
                    return [3 /*break*/, 2];
                case 4:
                    total = totals.available + totals.staked + totals.claimable + totals.pendingPayout;
                    res.json({
                        available: (0, amount_1.formatAmount)(totals.available),
                        staked: (0, amount_1.formatAmount)(totals.staked),
                        claimable: (0, amount_1.formatAmount)(totals.claimable),
                        pendingPayout: (0, amount_1.formatAmount)(totals.pendingPayout),
                        total: (0, amount_1.formatAmount)(total),
                    });
                    return [2 /*return*/];
            }
        });
    }); });
    router.get("/api/v1/me/stakes", auth.requireIdentity, function (req, res) { return __awaiter(_this, void 0, void 0, function () {
        var _a, _b;
        var _c;
        return __generator(this, function (_d) {
            switch (_d.label) {
                case 0:
                    _b = (_a = res).json;
                    _c = {};
                    return [4 /*yield*/, pools.stakesOf((0, identity_1.identityOf)(req).walletAddress)];
                case 1:
                    _b.apply(_a, [(_c.stakes = _d.sent(), _c)]);
                    return [2 /*return*/];
            }
        });
    }); });
    return router;
}
