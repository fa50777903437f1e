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
exports.SettlementQueue = void 0;
exports.settlePayout = settlePayout;
exports.startSettlementWorker = startSettlementWorker;
// The settlement job queue (BullMQ on Redis). The API enqueues one job per payout (job id = payout
// id); the worker settles it through the adapter and posts, or voids once retries are exhausted.
// Queue name and key prefix are configuration so parallel deployments and test runs never collide.
var bullmq_1 = require("bullmq");
var ioredis_1 = require("ioredis");
var adapter_1 = require("./adapter");
/** Producer side (API). Fails fast when Redis is down; the worker's sweep re-enqueues what was missed. */
var SettlementQueue = /** @class */ (function () {
    function SettlementQueue(options) {
        this.options = options;
        this.connection = new ioredis_1.default(options.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 });
        this.connection.on("error", function () { });
        this.queue = new bullmq_1.Queue(options.name, { connection: this.connection, prefix: options.prefix });
        this.queue.on("error", function () { });
    }
    SettlementQueue.prototype.enqueue = function (payoutId) {
        return __awaiter(this, void 0, void 0, function () {
            return __generator(this, function (_a) {
                switch (_a.label) {
                    case 0: return [4 /*yield*/, this.queue.add("settle", { payoutId: payoutId }, {
                            jobId: payoutId,
                            attempts: this.options.attempts,
                            backoff: { type: "exponential", delay: this.options.backoffMs },
                            removeOnComplete: true,
                            removeOnFail: true,
                        })];
                    case 1:
                        _a.sent();
                        return [2 /*return*/];
                }
            });
        });
    };
    SettlementQueue.prototype.close = function () {
        return __awaiter(this, void 0, void 0, function () {
            return __generator(this, function (_a) {
                switch (_a.label) {
                    case 0: return [4 /*yield*/, this.queue.close().catch(function () { })];
                    case 1:
                        _a.sent();
                        this.connection.disconnect();
                        return [2 /*return*/];
                }
            });
        });
    };
    return SettlementQueue;
}());
exports.SettlementQueue = SettlementQueue;
/**
 * Settles one payout; the job processor. A failure is retried by BullMQ with the same payout id;
 * the last attempt (or a permanent failure) voids the payout and returns the funds, unless a chain
 * transaction was sent whose fate is still unknown: then the payout stays pending and is retried
 * later (the sweep) until the chain answers.
 */
function settlePayout(payouts, adapter, payoutId, attempt, logger) {
    return __awaiter(this, void 0, void 0, function () {
        var payout, result, err_1, reason, permanent, unresolved, _a;
        var _b;
        return __generator(this, function (_c) {
            switch (_c.label) {
                case 0: return [4 /*yield*/, payouts.pendingForSettlement(payoutId)];
                case 1:
                    payout = _c.sent();
                    if (!payout)
                        return [2 /*return*/, "not-pending"];
                    _c.label = 2;
                case 2:
                    _c.trys.push([2, 5, , 13]);
                    return [4 /*yield*/, adapter.settle(payout, { recordAttempt: function (sig, height) { return payouts.recordAttempt(payoutId, sig, height); } })];
                case 3:
                    result = _c.sent();
                    return [4 /*yield*/, payouts.post(payoutId, result.txSignature)];
                case 4:
                    _c.sent();
                    logger.info({ payoutId: payoutId, adapter: adapter.name, txSignature: result.txSignature }, "payout settled");
                    return [2 /*return*/, "settled"];
                case 5:
                    err_1 = _c.sent();
                    reason = err_1 instanceof Error ? err_1.message : String(err_1);
                    permanent = err_1 instanceof adapter_1.PermanentSettlementError;
                    if (!(permanent || attempt.number >= attempt.of)) return [3 /*break*/, 11];
                    _a = !permanent;
                    if (!_a) return [3 /*break*/, 7];
                    return [4 /*yield*/, payouts.pendingForSettlement(payoutId)];
                case 6:
                    _a = ((_b = (_c.sent())) === null || _b === void 0 ? void 0 : _b.attemptSignature);
                    _c.label = 7;
                case 7:
                    unresolved = _a;
                    if (!unresolved) return [3 /*break*/, 9];
                    return [4 /*yield*/, payouts.countAttempt(payoutId, reason)];
                case 8:
                    _c.sent();
                    logger.error({ payoutId: payoutId, reason: reason }, "settlement retries exhausted with a transaction in flight; left pending for the sweep");
                    return [2 /*return*/, "awaiting-chain"];
                case 9: return [4 /*yield*/, payouts.void(payoutId, reason)];
                case 10:
                    _c.sent();
                    logger.warn({ payoutId: payoutId, reason: reason }, "payout voided; funds returned");
                    return [2 /*return*/, "voided"];
                case 11: return [4 /*yield*/, payouts.countAttempt(payoutId, reason)];
                case 12:
                    _c.sent();
                    logger.warn({ payoutId: payoutId, reason: reason, attempt: attempt.number }, "settlement attempt failed; will retry");
                    throw err_1;
                case 13: return [2 /*return*/];
            }
        });
    });
}
function startSettlementWorker(options, payouts, adapter, logger) {
    var _this = this;
    var _a, _b;
    var connection = new ioredis_1.default(options.redisUrl, { maxRetriesPerRequest: null });
    connection.on("error", function (err) { return logger.warn({ err: err.message }, "settlement worker Redis error"); });
    var producer = new SettlementQueue(options);
    var worker = new bullmq_1.Worker(options.name, function (job) { var _a; return settlePayout(payouts, adapter, job.data.payoutId, { number: job.attemptsMade + 1, of: (_a = job.opts.attempts) !== null && _a !== void 0 ? _a : 1 }, logger); }, { connection: connection, prefix: options.prefix, concurrency: (_a = options.concurrency) !== null && _a !== void 0 ? _a : 4 });
    worker.on("error", function (err) { return logger.warn({ err: err.message }, "settlement worker error"); });
    var sweep = function () { return __awaiter(_this, void 0, void 0, function () {
        var ids, _i, ids_1, id;
        var _a;
        return __generator(this, function (_b) {
            switch (_b.label) {
                case 0: return [4 /*yield*/, payouts.stalePending((_a = options.staleAfterSeconds) !== null && _a !== void 0 ? _a : 120)];
                case 1:
                    ids = _b.sent();
                    _i = 0, ids_1 = ids;
                    _b.label = 2;
                case 2:
                    if (!(_i < ids_1.length)) return [3 /*break*/, 5];
                    id = ids_1[_i];
                    return [4 /*yield*/, producer.enqueue(id)];
                case 3:
                    _b.sent();
                    _b.label = 4;
                case 4:
                    _i++;
                    return [3 /*break*/, 2];
                case 5: return [2 /*return*/, ids.length];
            }
        });
    }); };
    var timer = setInterval(function () {
        sweep().catch(function (err) { return logger.warn({ err: err }, "settlement sweep failed"); });
    }, ((_b = options.sweepEverySeconds) !== null && _b !== void 0 ? _b : 60) * 1000);
    timer.unref();
    return {
        worker: worker,
        sweep: sweep,
        close: function () { return __awaiter(_this, void 0, void 0, function () {
            return __generator(this, function (_a) {
                switch (_a.label) {
                    case 0:
                        clearInterval(timer);
                        return [4 /*yield*/, worker.close()];
                    case 1:
                        _a.sent();
                        return [4 /*yield*/, producer.close()];
                    case 2:
                        _a.sent();
                        connection.disconnect();
                        return [2 /*return*/];
                }
            });
        }); },
    };
}
