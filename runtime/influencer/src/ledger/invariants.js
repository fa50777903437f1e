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
exports.checkLedgerInvariants = checkLedgerInvariants;
// The ledger's invariants as one query set; tests run it after every scenario, operators can too
// (docs/ledger.md). Returns the violations found; an empty list means the ledger is consistent.
var sequelize_1 = require("sequelize");
function checkLedgerInvariants(sequelize) {
    return __awaiter(this, void 0, void 0, function () {
        var sumRow, negative, drifted, sum, violations, _i, negative_1, r, _a, drifted_1, r;
        return __generator(this, function (_b) {
            switch (_b.label) {
                case 0: return [4 /*yield*/, sequelize.query("SELECT COALESCE(SUM(balance), 0)::text AS sum FROM ledger_accounts", { type: sequelize_1.QueryTypes.SELECT })];
                case 1:
                    sumRow = (_b.sent())[0];
                    return [4 /*yield*/, sequelize.query("SELECT key FROM ledger_accounts WHERE owner_wallet IS NOT NULL AND balance < 0", {
                            type: sequelize_1.QueryTypes.SELECT,
                        })];
                case 2:
                    negative = _b.sent();
                    return [4 /*yield*/, sequelize.query("SELECT a.key FROM ledger_accounts a\n     LEFT JOIN (SELECT credit_account_id AS id, SUM(amount) AS s FROM ledger_transfers GROUP BY credit_account_id) c ON c.id = a.id\n     LEFT JOIN (SELECT debit_account_id AS id, SUM(amount) AS s FROM ledger_transfers GROUP BY debit_account_id) d ON d.id = a.id\n     WHERE a.balance <> COALESCE(c.s, 0) - COALESCE(d.s, 0)", { type: sequelize_1.QueryTypes.SELECT })];
                case 3:
                    drifted = _b.sent();
                    sum = BigInt(sumRow.sum);
                    violations = [];
                    if (sum !== 0n)
                        violations.push("balances sum to ".concat(sum, ", not 0"));
                    for (_i = 0, negative_1 = negative; _i < negative_1.length; _i++) {
                        r = negative_1[_i];
                        violations.push("user account ".concat(r.key, " is negative"));
                    }
                    for (_a = 0, drifted_1 = drifted; _a < drifted_1.length; _a++) {
                        r = drifted_1[_a];
                        violations.push("account ".concat(r.key, " balance differs from its transfers"));
                    }
                    return [2 /*return*/, { sum: sum, negativeUserAccounts: negative.map(function (r) { return r.key; }), driftedAccounts: drifted.map(function (r) { return r.key; }), violations: violations }];
            }
        });
    });
}
