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
exports.PoolCache = void 0;
// Redis cache for public pool reads. Every change bumps a version number that is part of each key,
// so one INCR invalidates every cached list and pool at once; old entries expire by TTL. The cache
// is an optimisation: when Redis fails, reads go to Postgres.
var node_crypto_1 = require("node:crypto");
var VERSION_KEY = "pools:version";
var PoolCache = /** @class */ (function () {
    function PoolCache(redis, ttlSeconds, logger) {
        this.redis = redis;
        this.ttlSeconds = ttlSeconds;
        this.logger = logger;
    }
    PoolCache.prototype.read = function (kind, params, load) {
        return __awaiter(this, void 0, void 0, function () {
            var key, version, hit, err_1, value, err_2;
            var _a;
            return __generator(this, function (_b) {
                switch (_b.label) {
                    case 0:
                        key = null;
                        _b.label = 1;
                    case 1:
                        _b.trys.push([1, 4, , 5]);
                        return [4 /*yield*/, this.redis.get(VERSION_KEY)];
                    case 2:
                        version = (_a = (_b.sent())) !== null && _a !== void 0 ? _a : "0";
                        key = "pools:v".concat(version, ":").concat(kind, ":").concat((0, node_crypto_1.createHash)("sha256").update(JSON.stringify(params)).digest("hex").slice(0, 32));
                        return [4 /*yield*/, this.redis.get(key)];
                    case 3:
                        hit = _b.sent();
                        if (hit)
                            return [2 /*return*/, JSON.parse(hit)];
                        return [3 /*break*/, 5];
                    case 4:
                        err_1 = _b.sent();
                        this.logger.debug({ err: err_1 }, "pool cache read failed; using Postgres");
                        return [3 /*break*/, 5];
                    case 5: return [4 /*yield*/, load()];
                    case 6:
                        value = _b.sent();
                        if (!key) return [3 /*break*/, 10];
                        _b.label = 7;
                    case 7:
                        _b.trys.push([7, 9, , 10]);
                        return [4 /*yield*/, this.redis.set(key, JSON.stringify(value), "EX", this.ttlSeconds)];
                    case 8:
                        _b.sent();
                        return [3 /*break*/, 10];
                    case 9:
                        err_2 = _b.sent();
                        this.logger.debug({ err: err_2 }, "pool cache write failed");
                        return [3 /*break*/, 10];
                    case 10: return [2 /*return*/, value];
                }
            });
        });
    };
    PoolCache.prototype.invalidate = function () {
        return __awaiter(this, void 0, void 0, function () {
            var err_3;
            return __generator(this, function (_a) {
                switch (_a.label) {
                    case 0:
                        _a.trys.push([0, 2, , 3]);
                        return [4 /*yield*/, this.redis.incr(VERSION_KEY)];
                    case 1:
                        _a.sent();
                        return [3 /*break*/, 3];
                    case 2:
                        err_3 = _a.sent();
                        // Entries expire within ttlSeconds anyway.
                        this.logger.warn({ err: err_3 }, "pool cache invalidation failed");
                        return [3 /*break*/, 3];
                    case 3: return [2 /*return*/];
                }
            });
        });
    };
    return PoolCache;
}());
exports.PoolCache = PoolCache;
