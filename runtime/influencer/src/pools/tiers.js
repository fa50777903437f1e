"use strict";
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
exports.MAX_REVENUE_SHARE_BPS = exports.TIERS = void 0;
exports.tierFor = tierFor;
exports.effectiveShareBps = effectiveShareBps;
exports.splitCommission = splitCommission;
// Pool tiers and the commission split. Pure functions: the rules docs/ledger.md documents.
var amount_1 = require("@twist/shared/amount");
/** By total staked: below 1k TWIST starter, from 1k bronze, from 10k silver, from 50k gold. */
exports.TIERS = [
    { name: "starter", minTotalStaked: 0n, maxRevenueShareBps: 1000 },
    { name: "bronze", minTotalStaked: (0, amount_1.twist)(1000), maxRevenueShareBps: 2000 },
    { name: "silver", minTotalStaked: (0, amount_1.twist)(10000), maxRevenueShareBps: 3500 },
    { name: "gold", minTotalStaked: (0, amount_1.twist)(50000), maxRevenueShareBps: 5000 },
];
exports.MAX_REVENUE_SHARE_BPS = 5000;
function tierFor(totalStaked) {
    var tier = exports.TIERS[0];
    for (var _i = 0, TIERS_1 = exports.TIERS; _i < TIERS_1.length; _i++) {
        var t = TIERS_1[_i];
        if (totalStaked >= t.minTotalStaked)
            tier = t;
    }
    return tier;
}
/** The share actually paid: the pool's configured share, capped by its tier. */
function effectiveShareBps(revenueShareBps, totalStaked) {
    return Math.min(revenueShareBps, tierFor(totalStaked).maxRevenueShareBps);
}
/**
 * Splits a commission: stakersAmount = floor(commission * shareBps / 10000) (0 when nobody stakes),
 * the influencer gets the rest. Stakers are paid pro rata to their stake by the largest-remainder
 * rule: each gets floor(stakersAmount * stake / total), then the units left over (fewer than the
 * number of stakers) go one each to the stakers with the largest fractional remainders, ties broken
 * by larger stake, then wallet address ascending. No base unit is created or lost.
 */
function splitCommission(commission, shareBps, positions) {
    if (commission <= 0n)
        throw new RangeError("commission must be positive");
    if (!Number.isInteger(shareBps) || shareBps < 0 || shareBps > 10000)
        throw new RangeError("shareBps must be 0-10000");
    var stakers = positions.filter(function (p) { return p.amount > 0n; });
    var total = stakers.reduce(function (s, p) { return s + p.amount; }, 0n);
    var stakersAmount = total === 0n ? 0n : (commission * BigInt(shareBps)) / 10000n;
    if (stakersAmount === 0n)
        return { stakersAmount: 0n, influencerAmount: commission, shares: [] };
    var rows = stakers.map(function (p) {
        var scaled = stakersAmount * p.amount;
        return { wallet: p.wallet, stake: p.amount, share: scaled / total, remainder: scaled % total };
    });
    var left = stakersAmount - rows.reduce(function (s, r) { return s + r.share; }, 0n);
    var order = __spreadArray([], rows, true).sort(function (a, b) {
        return a.remainder !== b.remainder ? (b.remainder > a.remainder ? 1 : -1) : a.stake !== b.stake ? (b.stake > a.stake ? 1 : -1) : a.wallet < b.wallet ? -1 : 1;
    });
    for (var _i = 0, order_1 = order; _i < order_1.length; _i++) {
        var r = order_1[_i];
        if (left === 0n)
            break;
        r.share += 1n;
        left -= 1n;
    }
    return {
        stakersAmount: stakersAmount,
        influencerAmount: commission - stakersAmount,
        shares: rows.filter(function (r) { return r.share > 0n; }).map(function (r) { return ({ wallet: r.wallet, amount: r.share }); }),
    };
}
