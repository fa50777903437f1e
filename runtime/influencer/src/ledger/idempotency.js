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
exports.IDEMPOTENCY_KEY_PATTERN = void 0;
exports.idempotencyKeyOf = idempotencyKeyOf;
exports.requestHash = requestHash;
exports.withIdempotency = withIdempotency;
// Idempotency-Key for money routes (stake, unstake, claim, payout). Keys are scoped per wallet. The
// key row is inserted in the same transaction as the effect, so:
//   - the same key + same body replays the stored answer and has no second effect;
//   - a concurrent request with the same key waits on the row (unique index) and then replays;
//   - the same key + a different body is 409 CONFLICT (IDEMPOTENCY_KEY_REUSED);
//   - a request that fails (4xx/5xx) stores nothing, so the key can be retried.
var node_crypto_1 = require("node:crypto");
var sequelize_1 = require("sequelize");
var errors_1 = require("@twist/shared/errors");
exports.IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9_.:-]{8,128}$/;
function idempotencyKeyOf(req) {
    var key = req.get("idempotency-key");
    if (!key)
        throw (0, errors_1.validationError)("Idempotency-Key header is required", [{ field: "Idempotency-Key", message: "is required" }]);
    if (!exports.IDEMPOTENCY_KEY_PATTERN.test(key)) {
        throw (0, errors_1.validationError)("Idempotency-Key is invalid", [{ field: "Idempotency-Key", message: "must be 8-128 of [A-Za-z0-9_.:-]" }]);
    }
    return key;
}
/** Hash of what makes two requests "the same": method, route target and the parsed body. */
function requestHash(method, path, body) {
    return (0, node_crypto_1.createHash)("sha256").update(JSON.stringify([method, path, canonical(body)])).digest("hex");
}
function canonical(value) {
    if (Array.isArray(value))
        return value.map(canonical);
    if (value && typeof value === "object") {
        return Object.fromEntries(Object.keys(value).sort().map(function (k) { return [k, canonical(value[k])]; }));
    }
    return value;
}
/**
 * Runs `effect` once per (wallet, key): inside one transaction, claims the key, runs the effect and
 * stores its answer. A replay returns the stored answer without running anything.
 */
function withIdempotency(sequelize, scope, effect) {
    return __awaiter(this, void 0, void 0, function () {
        var _this = this;
        return __generator(this, function (_a) {
            return [2 /*return*/, sequelize.transaction(function (t) { return __awaiter(_this, void 0, void 0, function () {
                    var claimed, stored, answer;
                    return __generator(this, function (_a) {
                        switch (_a.label) {
                            case 0: return [4 /*yield*/, sequelize.query("INSERT INTO idempotency_keys (wallet, key, request_hash, status, response) VALUES ($1, $2, $3, 0, 'null'::jsonb)\n       ON CONFLICT (wallet, key) DO NOTHING RETURNING key", { bind: [scope.wallet, scope.key, scope.hash], transaction: t, type: sequelize_1.QueryTypes.SELECT })];
                            case 1:
                                claimed = _a.sent();
                                if (!(claimed.length === 0)) return [3 /*break*/, 3];
                                return [4 /*yield*/, sequelize.query("SELECT request_hash, status, response FROM idempotency_keys WHERE wallet = $1 AND key = $2", { bind: [scope.wallet, scope.key], transaction: t, type: sequelize_1.QueryTypes.SELECT })];
                            case 2:
                                stored = (_a.sent())[0];
                                if (!stored || stored.request_hash !== scope.hash) {
                                    throw new errors_1.ApiError("CONFLICT", "Idempotency-Key was already used with a different request", { details: { reason: "IDEMPOTENCY_KEY_REUSED" } });
                                }
                                return [2 /*return*/, { status: stored.status, body: stored.response, replayed: true }];
                            case 3: return [4 /*yield*/, effect(t)];
                            case 4:
                                answer = _a.sent();
                                return [4 /*yield*/, sequelize.query("UPDATE idempotency_keys SET status = $3, response = $4::jsonb WHERE wallet = $1 AND key = $2", {
                                        bind: [scope.wallet, scope.key, answer.status, JSON.stringify(answer.body)],
                                        transaction: t,
                                    })];
                            case 5:
                                _a.sent();
                                return [2 /*return*/, __assign(__assign({}, answer), { replayed: false })];
                        }
                    });
                }); })];
        });
    });
}
