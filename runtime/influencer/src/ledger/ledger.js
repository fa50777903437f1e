"use strict";
var __extends = (this && this.__extends) || (function () {
    var extendStatics = function (d, b) {
        extendStatics = Object.setPrototypeOf ||
            ({ __proto__: [] } instanceof Array && function (d, b) { d.__proto__ = b; }) ||
            function (d, b) { for (var p in b) if (Object.prototype.hasOwnProperty.call(b, p)) d[p] = b[p]; };
        return extendStatics(d, b);
    };
    return function (d, b) {
        if (typeof b !== "function" && b !== null)
            throw new TypeError("Class extends value " + String(b) + " is not a constructor or null");
        extendStatics(d, b);
        function __() { this.constructor = d; }
        d.prototype = b === null ? Object.create(b) : (__.prototype = b.prototype, new __());
    };
})();
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
exports.Ledger = exports.MAX_TRANSFER_ID_LENGTH = exports.LedgerConflictError = exports.InsufficientFundsError = exports.LedgerError = void 0;
// The ledger (contract 5): the only code that moves money. Every movement is a transfer between two
// accounts, posted inside the caller's transaction:
//   1. the accounts are created if missing, then locked (SELECT ... FOR UPDATE) in key order, so
//      concurrent postings serialise per account and never deadlock on each other;
//   2. the transfers are inserted with their id as idempotency key (ON CONFLICT DO NOTHING); an id
//      already present with the same body is a replay and changes nothing, with another body it is
//      a LedgerConflictError;
//   3. the net change per account is checked against the locked balances (user-owned accounts never
//      go negative: InsufficientFundsError) and applied in one UPDATE.
// A thrown error leaves the transaction unusable for money: the caller must roll it back (Sequelize
// managed transactions do so when the callback throws). A CHECK constraint backs rule 3 in the schema.
var sequelize_1 = require("sequelize");
var accounts_1 = require("./accounts");
var LedgerError = /** @class */ (function (_super) {
    __extends(LedgerError, _super);
    function LedgerError() {
        return _super !== null && _super.apply(this, arguments) || this;
    }
    return LedgerError;
}(Error));
exports.LedgerError = LedgerError;
var InsufficientFundsError = /** @class */ (function (_super) {
    __extends(InsufficientFundsError, _super);
    function InsufficientFundsError(accountKey, balance, required) {
        var _this = _super.call(this, "insufficient funds in ".concat(accountKey)) || this;
        _this.accountKey = accountKey;
        _this.balance = balance;
        _this.required = required;
        _this.name = "InsufficientFundsError";
        return _this;
    }
    return InsufficientFundsError;
}(LedgerError));
exports.InsufficientFundsError = InsufficientFundsError;
var LedgerConflictError = /** @class */ (function (_super) {
    __extends(LedgerConflictError, _super);
    function LedgerConflictError(transferId) {
        var _this = _super.call(this, "transfer ".concat(transferId, " already exists with a different body")) || this;
        _this.transferId = transferId;
        _this.name = "LedgerConflictError";
        return _this;
    }
    return LedgerConflictError;
}(LedgerError));
exports.LedgerConflictError = LedgerConflictError;
exports.MAX_TRANSFER_ID_LENGTH = 256;
var Ledger = /** @class */ (function () {
    function Ledger(sequelize) {
        this.sequelize = sequelize;
    }
    /** Runs `fn` in a new transaction (READ COMMITTED; row locks provide the isolation the ledger needs). */
    Ledger.prototype.transaction = function (fn) {
        return this.sequelize.transaction(fn);
    };
    Ledger.prototype.transfer = function (t, input) {
        return __awaiter(this, void 0, void 0, function () {
            var result;
            return __generator(this, function (_a) {
                switch (_a.label) {
                    case 0: return [4 /*yield*/, this.post(t, [input])];
                    case 1:
                        result = _a.sent();
                        return [2 /*return*/, { applied: result.applied[0], balances: result.balances }];
                }
            });
        });
    };
    /** Posts transfers atomically (all or nothing) within `t`. */
    Ledger.prototype.post = function (t, inputs) {
        return __awaiter(this, void 0, void 0, function () {
            var ids, specs, _i, inputs_1, tr, keys, all, locked, byKey, inserted, insertedIds, replays, deltas, _a, inputs_2, tr, balances, _b, locked_1, a, next, changed;
            var _c, _d, _e, _f;
            return __generator(this, function (_g) {
                switch (_g.label) {
                    case 0:
                        if (inputs.length === 0)
                            return [2 /*return*/, { applied: [], balances: new Map() }];
                        ids = new Set();
                        specs = new Map();
                        for (_i = 0, inputs_1 = inputs; _i < inputs_1.length; _i++) {
                            tr = inputs_1[_i];
                            if (typeof tr.amount !== "bigint" || tr.amount <= 0n)
                                throw new LedgerError("transfer ".concat(tr.id, ": amount must be a positive bigint"));
                            if (!tr.id || tr.id.length > exports.MAX_TRANSFER_ID_LENGTH)
                                throw new LedgerError("transfer id must be 1-256 characters");
                            if (ids.has(tr.id))
                                throw new LedgerError("transfer ".concat(tr.id, " appears twice in one posting"));
                            if (tr.from.key === tr.to.key)
                                throw new LedgerError("transfer ".concat(tr.id, ": from and to are the same account"));
                            ids.add(tr.id);
                            specs.set(tr.from.key, tr.from);
                            specs.set(tr.to.key, tr.to);
                        }
                        keys = __spreadArray([], specs.keys(), true).sort();
                        all = keys.map(function (k) { return specs.get(k); });
                        return [4 /*yield*/, this.sequelize.query("INSERT INTO ledger_accounts (key, owner_wallet, kind, ref, currency, allow_negative)\n       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::boolean[])\n       ON CONFLICT (key) DO NOTHING", { bind: [keys, all.map(function (a) { return a.owner; }), all.map(function (a) { return a.kind; }), all.map(function (a) { return a.ref; }), all.map(function () { return accounts_1.CURRENCY; }), all.map(function (a) { return a.allowNegative; })], transaction: t })];
                    case 1:
                        _g.sent();
                        return [4 /*yield*/, this.sequelize.query("SELECT id, key, balance::text AS balance, allow_negative FROM ledger_accounts WHERE key = ANY($1::text[]) ORDER BY key FOR UPDATE", { bind: [keys], transaction: t, type: sequelize_1.QueryTypes.SELECT })];
                    case 2:
                        locked = _g.sent();
                        byKey = new Map(locked.map(function (a) { return [a.key, a]; }));
                        return [4 /*yield*/, this.sequelize.query("INSERT INTO ledger_transfers (id, debit_account_id, credit_account_id, amount, kind, reference)\n       SELECT * FROM unnest($1::text[], $2::uuid[], $3::uuid[], $4::numeric[], $5::text[], $6::text[])\n       ON CONFLICT (id) DO NOTHING RETURNING id", {
                                bind: [
                                    inputs.map(function (tr) { return tr.id; }),
                                    inputs.map(function (tr) { return byKey.get(tr.from.key).id; }),
                                    inputs.map(function (tr) { return byKey.get(tr.to.key).id; }),
                                    inputs.map(function (tr) { return tr.amount.toString(); }),
                                    inputs.map(function (tr) { return tr.kind; }),
                                    inputs.map(function (tr) { var _a; return (_a = tr.reference) !== null && _a !== void 0 ? _a : null; }),
                                ],
                                transaction: t,
                                type: sequelize_1.QueryTypes.SELECT,
                            })];
                    case 3:
                        inserted = _g.sent();
                        insertedIds = new Set(inserted.map(function (r) { return r.id; }));
                        replays = inputs.filter(function (tr) { return !insertedIds.has(tr.id); });
                        if (!replays.length) return [3 /*break*/, 5];
                        return [4 /*yield*/, this.checkReplays(t, replays)];
                    case 4:
                        _g.sent();
                        _g.label = 5;
                    case 5:
                        deltas = new Map();
                        for (_a = 0, inputs_2 = inputs; _a < inputs_2.length; _a++) {
                            tr = inputs_2[_a];
                            if (!insertedIds.has(tr.id))
                                continue;
                            deltas.set(tr.from.key, ((_c = deltas.get(tr.from.key)) !== null && _c !== void 0 ? _c : 0n) - tr.amount);
                            deltas.set(tr.to.key, ((_d = deltas.get(tr.to.key)) !== null && _d !== void 0 ? _d : 0n) + tr.amount);
                        }
                        balances = new Map();
                        for (_b = 0, locked_1 = locked; _b < locked_1.length; _b++) {
                            a = locked_1[_b];
                            next = BigInt(a.balance) + ((_e = deltas.get(a.key)) !== null && _e !== void 0 ? _e : 0n);
                            if (next < 0n && !a.allow_negative)
                                throw new InsufficientFundsError(a.key, BigInt(a.balance), -((_f = deltas.get(a.key)) !== null && _f !== void 0 ? _f : 0n));
                            balances.set(a.key, next);
                        }
                        changed = locked.filter(function (a) { var _a; return ((_a = deltas.get(a.key)) !== null && _a !== void 0 ? _a : 0n) !== 0n; });
                        if (!changed.length) return [3 /*break*/, 7];
                        return [4 /*yield*/, this.sequelize.query("UPDATE ledger_accounts a SET balance = a.balance + d.delta\n         FROM unnest($1::uuid[], $2::numeric[]) AS d(id, delta) WHERE a.id = d.id", { bind: [changed.map(function (a) { return a.id; }), changed.map(function (a) { return deltas.get(a.key).toString(); })], transaction: t })];
                    case 6:
                        _g.sent();
                        _g.label = 7;
                    case 7: return [2 /*return*/, { applied: inputs.map(function (tr) { return insertedIds.has(tr.id); }), balances: balances }];
                }
            });
        });
    };
    Ledger.prototype.checkReplays = function (t, replays) {
        return __awaiter(this, void 0, void 0, function () {
            var rows, existing, _i, replays_1, tr, e, same;
            var _a;
            return __generator(this, function (_b) {
                switch (_b.label) {
                    case 0: return [4 /*yield*/, this.sequelize.query("SELECT t.id, d.key AS from_key, c.key AS to_key, t.amount::text AS amount, t.kind, t.reference\n       FROM ledger_transfers t JOIN ledger_accounts d ON d.id = t.debit_account_id JOIN ledger_accounts c ON c.id = t.credit_account_id\n       WHERE t.id = ANY($1::text[])", { bind: [replays.map(function (r) { return r.id; })], transaction: t, type: sequelize_1.QueryTypes.SELECT })];
                    case 1:
                        rows = _b.sent();
                        existing = new Map(rows.map(function (r) { return [r.id, r]; }));
                        for (_i = 0, replays_1 = replays; _i < replays_1.length; _i++) {
                            tr = replays_1[_i];
                            e = existing.get(tr.id);
                            same = e && e.from_key === tr.from.key && e.to_key === tr.to.key && BigInt(e.amount) === tr.amount && e.kind === tr.kind && e.reference === ((_a = tr.reference) !== null && _a !== void 0 ? _a : null);
                            if (!same)
                                throw new LedgerConflictError(tr.id);
                        }
                        return [2 /*return*/];
                }
            });
        });
    };
    /** Current balance of one account (0 when it does not exist yet). */
    Ledger.prototype.balance = function (key, t) {
        return __awaiter(this, void 0, void 0, function () {
            var rows;
            return __generator(this, function (_a) {
                switch (_a.label) {
                    case 0: return [4 /*yield*/, this.sequelize.query("SELECT balance::text AS balance FROM ledger_accounts WHERE key = $1", {
                            bind: [key],
                            transaction: t,
                            type: sequelize_1.QueryTypes.SELECT,
                        })];
                    case 1:
                        rows = _a.sent();
                        return [2 /*return*/, rows[0] ? BigInt(rows[0].balance) : 0n];
                }
            });
        });
    };
    /** Every account a wallet owns, with balances. */
    Ledger.prototype.accountsOf = function (wallet, t) {
        return __awaiter(this, void 0, void 0, function () {
            var rows;
            return __generator(this, function (_a) {
                switch (_a.label) {
                    case 0: return [4 /*yield*/, this.sequelize.query("SELECT key, kind, ref, balance::text AS balance FROM ledger_accounts WHERE owner_wallet = $1 ORDER BY key", { bind: [wallet], transaction: t, type: sequelize_1.QueryTypes.SELECT })];
                    case 1:
                        rows = _a.sent();
                        return [2 /*return*/, rows.map(function (r) { return (__assign(__assign({}, r), { balance: BigInt(r.balance) })); })];
                }
            });
        });
    };
    return Ledger;
}());
exports.Ledger = Ledger;
