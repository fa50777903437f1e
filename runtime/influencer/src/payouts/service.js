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
var __spreadArray = (this && this.__spreadArray) || function (to, from, pack) {
    if (pack || arguments.length === 2) for (var i = 0, l = from.length, ar; i < l; i++) {
        if (ar || !(i in from)) {
            if (!ar) ar = Array.prototype.slice.call(from, 0, i);
            ar[i] = from[i];
        }
    }
    return to.concat(ar || Array.prototype.slice.call(from));
};
Object.defineProperty(exports, "__esModule", { value: true });
exports.PayoutService = void 0;
exports.payoutFee = payoutFee;
// Payouts, two-phase on the ledger:
//   request : available -> payout_pending (amount), payout row `pending`          (API, idempotent)
//   post    : payout_pending -> system:settlement (net) and -> system:fees (fee)  (worker, once)
//   void    : payout_pending -> available (amount)                                (worker, once)
// The status change and its transfers commit together under the payout row lock and only from
// `pending`, so a payout is posted or voided exactly once whatever retries or races happen.
var sequelize_1 = require("sequelize");
var errors_1 = require("@twist/shared/errors");
var amount_1 = require("@twist/shared/amount");
var ledger_1 = require("../ledger");
var service_1 = require("../pools/service");
var COLUMNS = "id, wallet, amount::text AS amount, fee::text AS fee, net::text AS net, destination, status, adapter, tx_signature,\n  attempt_signature, attempt_last_valid_height::text AS attempt_last_valid_height, failure_reason, created_at, settled_at, voided_at";
var iso = function (d) { return (d ? new Date(d).toISOString() : null); };
function view(r) {
    return {
        id: r.id,
        amount: r.amount,
        fee: r.fee,
        net: r.net,
        destination: r.destination,
        status: r.status,
        adapter: r.adapter,
        txSignature: r.tx_signature,
        failureReason: r.failure_reason,
        createdAt: iso(r.created_at),
        settledAt: iso(r.settled_at),
        voidedAt: iso(r.voided_at),
    };
}
/** fee = feeFlat + floor(amount * feeBps / 10000). */
function payoutFee(amount, rules) {
    return rules.feeFlat + (amount * BigInt(rules.feeBps)) / 10000n;
}
var PayoutService = /** @class */ (function () {
    function PayoutService(sequelize, ledger, rules, adapterName) {
        this.sequelize = sequelize;
        this.ledger = ledger;
        this.rules = rules;
        this.adapterName = adapterName;
    }
    /** Validates the amount against the rules (400) before any transaction starts. */
    PayoutService.prototype.quote = function (amount) {
        if (amount < this.rules.minAmount) {
            throw new errors_1.ApiError("VALIDATION_ERROR", "the minimum payout is ".concat((0, amount_1.formatAmount)(this.rules.minAmount)), {
                details: [{ field: "amount", message: "must be at least ".concat((0, amount_1.formatAmount)(this.rules.minAmount)), reason: "BELOW_MINIMUM" }],
            });
        }
        var fee = payoutFee(amount, this.rules);
        if (fee >= amount)
            throw (0, errors_1.validationError)("the amount does not cover the payout fee", [{ field: "amount", message: "fee is ".concat((0, amount_1.formatAmount)(fee)) }]);
        return { fee: fee, net: amount - fee };
    };
    /** Phase 1: reserves the amount (available -> payout_pending) and records a pending payout. */
    PayoutService.prototype.request = function (t, wallet, amount) {
        return __awaiter(this, void 0, void 0, function () {
            var _a, fee, net, row;
            return __generator(this, function (_b) {
                switch (_b.label) {
                    case 0:
                        _a = this.quote(amount), fee = _a.fee, net = _a.net;
                        return [4 /*yield*/, this.sequelize.query("INSERT INTO payouts (wallet, amount, fee, net, destination, adapter) VALUES ($1, $2::numeric, $3::numeric, $4::numeric, $1, $5) RETURNING ".concat(COLUMNS), { bind: [wallet, amount.toString(), fee.toString(), net.toString(), this.adapterName], transaction: t, type: sequelize_1.QueryTypes.SELECT })];
                    case 1:
                        row = (_b.sent())[0];
                        return [4 /*yield*/, this.ledger.transfer(t, {
                                id: "payout:".concat(row.id, ":reserve"),
                                from: ledger_1.account.available(wallet),
                                to: ledger_1.account.payoutPending(wallet),
                                amount: amount,
                                kind: "payout_reserve",
                                reference: row.id,
                            })];
                    case 2:
                        _b.sent();
                        return [2 /*return*/, view(row)];
                }
            });
        });
    };
    PayoutService.prototype.list = function (wallet, limit, before) {
        return __awaiter(this, void 0, void 0, function () {
            var rows, page;
            return __generator(this, function (_a) {
                switch (_a.label) {
                    case 0:
                        if (before !== undefined && !service_1.UUID_PATTERN.test(before))
                            throw (0, errors_1.validationError)("cursor is invalid", [{ field: "cursor", message: "must be a payout id" }]);
                        return [4 /*yield*/, this.sequelize.query("SELECT ".concat(COLUMNS, " FROM payouts WHERE wallet = $1\n         AND ($2::uuid IS NULL OR (created_at, id) < (SELECT created_at, id FROM payouts WHERE id = $2::uuid AND wallet = $1))\n       ORDER BY created_at DESC, id DESC LIMIT $3"), { bind: [wallet, before !== null && before !== void 0 ? before : null, limit + 1], type: sequelize_1.QueryTypes.SELECT })];
                    case 1:
                        rows = _a.sent();
                        page = rows.slice(0, limit);
                        return [2 /*return*/, { payouts: page.map(view), nextCursor: rows.length > limit ? page[page.length - 1].id : null }];
                }
            });
        });
    };
    /** A payout of `wallet`; another wallet's payout is 404, as if it did not exist. */
    PayoutService.prototype.get = function (wallet, id) {
        return __awaiter(this, void 0, void 0, function () {
            var row;
            return __generator(this, function (_a) {
                switch (_a.label) {
                    case 0:
                        if (!service_1.UUID_PATTERN.test(id))
                            throw (0, errors_1.notFound)("payout not found");
                        return [4 /*yield*/, this.sequelize.query("SELECT ".concat(COLUMNS, " FROM payouts WHERE id = $1 AND wallet = $2"), {
                                bind: [id, wallet],
                                type: sequelize_1.QueryTypes.SELECT,
                            })];
                    case 1:
                        row = (_a.sent())[0];
                        if (!row)
                            throw (0, errors_1.notFound)("payout not found");
                        return [2 /*return*/, view(row)];
                }
            });
        });
    };
    PayoutService.prototype.balance = function (wallet) {
        return __awaiter(this, void 0, void 0, function () {
            var _a, available, pending;
            return __generator(this, function (_b) {
                switch (_b.label) {
                    case 0: return [4 /*yield*/, Promise.all([this.ledger.balance(ledger_1.account.available(wallet).key), this.ledger.balance(ledger_1.account.payoutPending(wallet).key)])];
                    case 1:
                        _a = _b.sent(), available = _a[0], pending = _a[1];
                        return [2 /*return*/, { available: (0, amount_1.formatAmount)(available), pending: (0, amount_1.formatAmount)(pending) }];
                }
            });
        });
    };
    /** For the worker: a pending payout's settlement input, or null when it is no longer pending. */
    PayoutService.prototype.pendingForSettlement = function (id) {
        return __awaiter(this, void 0, void 0, function () {
            var row;
            return __generator(this, function (_a) {
                switch (_a.label) {
                    case 0: return [4 /*yield*/, this.sequelize.query("SELECT ".concat(COLUMNS, " FROM payouts WHERE id = $1"), { bind: [id], type: sequelize_1.QueryTypes.SELECT })];
                    case 1:
                        row = (_a.sent())[0];
                        if (!row || row.status !== "pending")
                            return [2 /*return*/, null];
                        return [2 /*return*/, {
                                id: row.id,
                                destination: row.destination,
                                net: BigInt(row.net),
                                attemptSignature: row.attempt_signature,
                                attemptLastValidHeight: row.attempt_last_valid_height === null ? null : BigInt(row.attempt_last_valid_height),
                            }];
                }
            });
        });
    };
    PayoutService.prototype.recordAttempt = function (id, signature, lastValidHeight) {
        return __awaiter(this, void 0, void 0, function () {
            return __generator(this, function (_a) {
                switch (_a.label) {
                    case 0: return [4 /*yield*/, this.sequelize.query("UPDATE payouts SET attempt_signature = $2, attempt_last_valid_height = $3 WHERE id = $1 AND status = 'pending'", {
                            bind: [id, signature, lastValidHeight.toString()],
                        })];
                    case 1:
                        _a.sent();
                        return [2 /*return*/];
                }
            });
        });
    };
    PayoutService.prototype.countAttempt = function (id, reason) {
        return __awaiter(this, void 0, void 0, function () {
            return __generator(this, function (_a) {
                switch (_a.label) {
                    case 0: return [4 /*yield*/, this.sequelize.query("UPDATE payouts SET attempts = attempts + 1, failure_reason = $2 WHERE id = $1 AND status = 'pending'", {
                            bind: [id, reason.slice(0, 500)],
                        })];
                    case 1:
                        _a.sent();
                        return [2 /*return*/];
                }
            });
        });
    };
    /** Phase 2, success: posts the reserved funds out (net to settlement, fee to fees). False if not pending. */
    PayoutService.prototype.post = function (id, txSignature) {
        return __awaiter(this, void 0, void 0, function () {
            var _this = this;
            return __generator(this, function (_a) {
                return [2 /*return*/, this.finish(id, function (t, row) { return __awaiter(_this, void 0, void 0, function () {
                        var from, net, fee;
                        return __generator(this, function (_a) {
                            switch (_a.label) {
                                case 0:
                                    from = ledger_1.account.payoutPending(row.wallet);
                                    net = BigInt(row.net);
                                    fee = BigInt(row.fee);
                                    return [4 /*yield*/, this.ledger.post(t, __spreadArray([
                                            { id: "payout:".concat(id, ":post"), from: from, to: ledger_1.account.system("settlement"), amount: net, kind: "payout_post", reference: id }
                                        ], (fee > 0n ? [{ id: "payout:".concat(id, ":fee"), from: from, to: ledger_1.account.system("fees"), amount: fee, kind: "payout_fee", reference: id }] : []), true))];
                                case 1:
                                    _a.sent();
                                    return [4 /*yield*/, this.sequelize.query("UPDATE payouts SET status = 'settled', tx_signature = $2, settled_at = now(), attempts = attempts + 1, failure_reason = NULL WHERE id = $1", { bind: [id, txSignature], transaction: t })];
                                case 2:
                                    _a.sent();
                                    return [2 /*return*/];
                            }
                        });
                    }); })];
            });
        });
    };
    /** Phase 2, failure: returns the reserved funds to available. False if not pending. */
    PayoutService.prototype.void = function (id, reason) {
        return __awaiter(this, void 0, void 0, function () {
            var _this = this;
            return __generator(this, function (_a) {
                return [2 /*return*/, this.finish(id, function (t, row) { return __awaiter(_this, void 0, void 0, function () {
                        return __generator(this, function (_a) {
                            switch (_a.label) {
                                case 0: return [4 /*yield*/, this.ledger.transfer(t, {
                                        id: "payout:".concat(id, ":void"),
                                        from: ledger_1.account.payoutPending(row.wallet),
                                        to: ledger_1.account.available(row.wallet),
                                        amount: BigInt(row.amount),
                                        kind: "payout_void",
                                        reference: id,
                                    })];
                                case 1:
                                    _a.sent();
                                    return [4 /*yield*/, this.sequelize.query("UPDATE payouts SET status = 'voided', voided_at = now(), failure_reason = $2 WHERE id = $1", {
                                            bind: [id, reason.slice(0, 500)],
                                            transaction: t,
                                        })];
                                case 2:
                                    _a.sent();
                                    return [2 /*return*/];
                            }
                        });
                    }); })];
            });
        });
    };
    PayoutService.prototype.finish = function (id, apply) {
        return __awaiter(this, void 0, void 0, function () {
            var _this = this;
            return __generator(this, function (_a) {
                return [2 /*return*/, this.sequelize.transaction(function (t) { return __awaiter(_this, void 0, void 0, function () {
                        var row;
                        return __generator(this, function (_a) {
                            switch (_a.label) {
                                case 0: return [4 /*yield*/, this.sequelize.query("SELECT ".concat(COLUMNS, " FROM payouts WHERE id = $1 FOR UPDATE"), {
                                        bind: [id],
                                        transaction: t,
                                        type: sequelize_1.QueryTypes.SELECT,
                                    })];
                                case 1:
                                    row = (_a.sent())[0];
                                    if (!row || row.status !== "pending")
                                        return [2 /*return*/, false];
                                    return [4 /*yield*/, apply(t, row)];
                                case 2:
                                    _a.sent();
                                    return [2 /*return*/, true];
                            }
                        });
                    }); })];
            });
        });
    };
    /** Pending payouts older than `olderThanSeconds` (the worker re-enqueues them after a lost enqueue). */
    PayoutService.prototype.stalePending = function (olderThanSeconds_1) {
        return __awaiter(this, arguments, void 0, function (olderThanSeconds, limit) {
            var rows;
            if (limit === void 0) { limit = 500; }
            return __generator(this, function (_a) {
                switch (_a.label) {
                    case 0: return [4 /*yield*/, this.sequelize.query("SELECT id FROM payouts WHERE status = 'pending' AND created_at < now() - make_interval(secs => $1) ORDER BY created_at LIMIT $2", { bind: [olderThanSeconds, limit], type: sequelize_1.QueryTypes.SELECT })];
                    case 1:
                        rows = _a.sent();
                        return [2 /*return*/, rows.map(function (r) { return r.id; })];
                }
            });
        });
    };
    return PayoutService;
}());
exports.PayoutService = PayoutService;
