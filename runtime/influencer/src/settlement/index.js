"use strict";
var __createBinding = (this && this.__createBinding) || (Object.create ? (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    var desc = Object.getOwnPropertyDescriptor(m, k);
    if (!desc || ("get" in desc ? !m.__esModule : desc.writable || desc.configurable)) {
      desc = { enumerable: true, get: function() { return m[k]; } };
    }
    Object.defineProperty(o, k2, desc);
}) : (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    o[k2] = m[k];
}));
var __exportStar = (this && this.__exportStar) || function(m, exports) {
    for (var p in m) if (p !== "default" && !Object.prototype.hasOwnProperty.call(exports, p)) __createBinding(exports, m, p);
};
Object.defineProperty(exports, "__esModule", { value: true });
exports.MEMO_PROGRAM_ID = exports.SolanaSettlementAdapter = exports.parsePayerSecretKey = exports.buildPayoutTransaction = exports.startSettlementWorker = exports.settlePayout = exports.SettlementQueue = void 0;
exports.createSettlementAdapter = createSettlementAdapter;
exports.settlementQueueOptions = settlementQueueOptions;
// Chooses the settlement adapter from configuration (SETTLEMENT_ADAPTER, default `ledger`).
var web3_js_1 = require("@solana/web3.js");
var adapter_1 = require("./adapter");
var solana_1 = require("./solana");
function createSettlementAdapter(config) {
    if (config.SETTLEMENT_ADAPTER !== "solana")
        return new adapter_1.LedgerSettlementAdapter();
    return new solana_1.SolanaSettlementAdapter(new web3_js_1.Connection(config.SOLANA_RPC_URL, "confirmed"), (0, solana_1.parsePayerSecretKey)(config.SOLANA_PAYER_SECRET_KEY), new web3_js_1.PublicKey(config.TWIST_MINT));
}
function settlementQueueOptions(config) {
    return {
        redisUrl: config.REDIS_URL,
        prefix: "".concat(config.REDIS_PREFIX, "bull"),
        name: config.SETTLEMENT_QUEUE,
        attempts: config.SETTLEMENT_ATTEMPTS,
        backoffMs: config.SETTLEMENT_BACKOFF_MS,
    };
}
__exportStar(require("./adapter"), exports);
var queue_1 = require("./queue");
Object.defineProperty(exports, "SettlementQueue", { enumerable: true, get: function () { return queue_1.SettlementQueue; } });
Object.defineProperty(exports, "settlePayout", { enumerable: true, get: function () { return queue_1.settlePayout; } });
Object.defineProperty(exports, "startSettlementWorker", { enumerable: true, get: function () { return queue_1.startSettlementWorker; } });
var solana_2 = require("./solana");
Object.defineProperty(exports, "buildPayoutTransaction", { enumerable: true, get: function () { return solana_2.buildPayoutTransaction; } });
Object.defineProperty(exports, "parsePayerSecretKey", { enumerable: true, get: function () { return solana_2.parsePayerSecretKey; } });
Object.defineProperty(exports, "SolanaSettlementAdapter", { enumerable: true, get: function () { return solana_2.SolanaSettlementAdapter; } });
Object.defineProperty(exports, "MEMO_PROGRAM_ID", { enumerable: true, get: function () { return solana_2.MEMO_PROGRAM_ID; } });
