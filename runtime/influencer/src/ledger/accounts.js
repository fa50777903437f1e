"use strict";
// Ledger account naming. Every account has a stable key; user-owned accounts never go negative,
// system accounts (the platform's side of each movement) may.
Object.defineProperty(exports, "__esModule", { value: true });
exports.account = exports.CURRENCY = void 0;
exports.CURRENCY = "TWIST";
exports.account = {
    /** Platform side: reward emissions, commissions paid in, fees earned, funds sent out by settlement. */
    system: function (name) { return ({ key: "system:".concat(name), owner: null, kind: "system_".concat(name), ref: null, allowNegative: true }); },
    /** Spendable balance of a wallet. */
    available: function (wallet) { return user(wallet, "available", null); },
    /** Funds a wallet has locked in one pool. */
    stake: function (wallet, poolId) { return user(wallet, "stake", poolId); },
    /** Revenue share distributed to a staker by one pool, claimable into `available`. */
    poolRewards: function (wallet, poolId) { return user(wallet, "pool_rewards", poolId); },
    /** Funds reserved by pending payouts. */
    payoutPending: function (wallet) { return user(wallet, "payout_pending", null); },
};
function user(wallet, kind, ref) {
    return { key: ref ? "user:".concat(wallet, ":").concat(kind, ":").concat(ref) : "user:".concat(wallet, ":").concat(kind), owner: wallet, kind: kind, ref: ref, allowNegative: false };
}
