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
exports.SolanaSettlementAdapter = exports.MEMO_PROGRAM_ID = void 0;
exports.buildPayoutTransaction = buildPayoutTransaction;
exports.parsePayerSecretKey = parsePayerSecretKey;
// Solana settlement: an SPL token TransferChecked of the payout's net amount from the treasury
// (payer) token account to the destination wallet's associated token account (created idempotently),
// with a memo naming the payout. Retried by payout id: the signed transaction's signature is stored
// before sending, and a retry first asks the RPC about it, so one payout never pays twice.
var spl_token_1 = require("@solana/spl-token");
var web3_js_1 = require("@solana/web3.js");
var bs58_1 = require("bs58");
var adapter_1 = require("./adapter");
exports.MEMO_PROGRAM_ID = new web3_js_1.PublicKey("MemoSq4gqABAXKb96qnH8TuAdsjQGLfcbqTXS1iVW8");
var U64_MAX = (1n << 64n) - 1n;
/** Builds and signs the payout transaction (offline: no RPC involved). */
function buildPayoutTransaction(input) {
    if (input.amount <= 0n || input.amount > U64_MAX)
        throw new adapter_1.PermanentSettlementError("payout amount does not fit an SPL token amount");
    var source = (0, spl_token_1.getAssociatedTokenAddressSync)(input.mint, input.payer.publicKey);
    var destination = (0, spl_token_1.getAssociatedTokenAddressSync)(input.mint, input.destinationOwner);
    var tx = new web3_js_1.Transaction({ feePayer: input.payer.publicKey, recentBlockhash: input.recentBlockhash });
    tx.add((0, spl_token_1.createAssociatedTokenAccountIdempotentInstruction)(input.payer.publicKey, destination, input.destinationOwner, input.mint), (0, spl_token_1.createTransferCheckedInstruction)(source, input.mint, destination, input.payer.publicKey, input.amount, input.decimals), new web3_js_1.TransactionInstruction({ programId: exports.MEMO_PROGRAM_ID, keys: [], data: Buffer.from("twist-payout:".concat(input.payoutId), "utf8") }));
    tx.sign(input.payer);
    return tx;
}
/** Parses SOLANA_PAYER_SECRET_KEY: base58 of the 64-byte secret key, or a JSON byte array (solana-keygen file format). */
function parsePayerSecretKey(text) {
    var trimmed = text.trim();
    var bytes = trimmed.startsWith("[") ? Uint8Array.from(JSON.parse(trimmed)) : bs58_1.default.decode(trimmed);
    if (bytes.length !== 64)
        throw new Error("SOLANA_PAYER_SECRET_KEY must decode to 64 bytes");
    return web3_js_1.Keypair.fromSecretKey(bytes);
}
var SolanaSettlementAdapter = /** @class */ (function () {
    function SolanaSettlementAdapter(rpc, payer, mint, decimals) {
        if (decimals === void 0) { decimals = 9; }
        this.rpc = rpc;
        this.payer = payer;
        this.mint = mint;
        this.decimals = decimals;
        this.name = "solana";
    }
    SolanaSettlementAdapter.prototype.settle = function (payout, hooks) {
        return __awaiter(this, void 0, void 0, function () {
            var landed, _a, blockhash, lastValidBlockHeight, tx, signature, confirmation;
            return __generator(this, function (_b) {
                switch (_b.label) {
                    case 0:
                        if (!payout.attemptSignature) return [3 /*break*/, 2];
                        return [4 /*yield*/, this.previousAttempt(payout.attemptSignature, payout.attemptLastValidHeight)];
                    case 1:
                        landed = _b.sent();
                        if (landed)
                            return [2 /*return*/, { txSignature: payout.attemptSignature }];
                        _b.label = 2;
                    case 2: return [4 /*yield*/, this.rpc.getLatestBlockhash("confirmed")];
                    case 3:
                        _a = _b.sent(), blockhash = _a.blockhash, lastValidBlockHeight = _a.lastValidBlockHeight;
                        tx = buildPayoutTransaction({
                            payer: this.payer,
                            mint: this.mint,
                            decimals: this.decimals,
                            destinationOwner: new web3_js_1.PublicKey(payout.destination),
                            amount: payout.net,
                            payoutId: payout.id,
                            recentBlockhash: blockhash,
                        });
                        signature = bs58_1.default.encode(tx.signature);
                        return [4 /*yield*/, hooks.recordAttempt(signature, BigInt(lastValidBlockHeight))];
                    case 4:
                        _b.sent();
                        return [4 /*yield*/, this.rpc.sendRawTransaction(tx.serialize(), { skipPreflight: false, maxRetries: 3 })];
                    case 5:
                        _b.sent();
                        return [4 /*yield*/, this.rpc.confirmTransaction({ signature: signature, blockhash: blockhash, lastValidBlockHeight: lastValidBlockHeight }, "confirmed")];
                    case 6:
                        confirmation = _b.sent();
                        if (confirmation.value.err)
                            throw new adapter_1.PermanentSettlementError("transaction failed on chain: ".concat(JSON.stringify(confirmation.value.err)));
                        return [2 /*return*/, { txSignature: signature }];
                }
            });
        });
    };
    /**
     * True when the earlier transaction landed. Throws (retry later) while it may still land; returns
     * false once its blockhash expired without it, so a new transaction is safe.
     */
    SolanaSettlementAdapter.prototype.previousAttempt = function (signature, lastValidHeight) {
        return __awaiter(this, void 0, void 0, function () {
            var status, value, height, _a;
            return __generator(this, function (_b) {
                switch (_b.label) {
                    case 0: return [4 /*yield*/, this.rpc.getSignatureStatus(signature, { searchTransactionHistory: true })];
                    case 1:
                        status = _b.sent();
                        value = status.value;
                        if (value) {
                            if (value.err)
                                throw new adapter_1.PermanentSettlementError("earlier transaction failed on chain: ".concat(JSON.stringify(value.err)));
                            if (value.confirmationStatus === "confirmed" || value.confirmationStatus === "finalized")
                                return [2 /*return*/, true];
                            throw new Error("earlier transaction is not confirmed yet");
                        }
                        _a = BigInt;
                        return [4 /*yield*/, this.rpc.getBlockHeight("confirmed")];
                    case 2:
                        height = _a.apply(void 0, [_b.sent()]);
                        if (lastValidHeight !== null && height <= lastValidHeight)
                            throw new Error("earlier transaction may still land; retry later");
                        return [2 /*return*/, false];
                }
            });
        });
    };
    return SolanaSettlementAdapter;
}());
exports.SolanaSettlementAdapter = SolanaSettlementAdapter;
