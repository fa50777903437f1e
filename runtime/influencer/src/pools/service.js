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
exports.PoolService = exports.UUID_PATTERN = void 0;
// Staking pools: creation and admin by their influencer, public search, and the money moves
// (stake, unstake, claim, commission distribution), all through the ledger.
//
// Lock order, everywhere: the pool row first (stake/unstake/claim FOR UPDATE, distribution FOR
// SHARE), then ledger accounts in key order (the ledger does that). Stake changes and distributions
// of one pool therefore serialise, and "the stakes at that moment" is well defined.
var sequelize_1 = require("sequelize");
var errors_1 = require("@twist/shared/errors");
var amount_1 = require("@twist/shared/amount");
var ledger_1 = require("../ledger");
var tiers_1 = require("./tiers");
exports.UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
var POOL_SELECT = "\n  SELECT p.id, p.influencer_id, i.username, i.display_name, p.name, p.description, p.revenue_share_bps,\n         p.min_stake::text AS min_stake, p.total_staked::text AS total_staked, p.staker_count, p.created_at,\n         (CASE WHEN p.total_staked > 0\n               THEN floor(COALESCE(d.s30, 0) * 365 * 10000 / (30 * p.total_staked)) ELSE 0 END)::numeric(39,0) AS apy_bps\n  FROM pools p\n  JOIN influencers i ON i.id = p.influencer_id\n  LEFT JOIN (SELECT pool_id, SUM(stakers_amount) AS s30 FROM pool_distributions\n             WHERE created_at > now() - interval '30 days' AND pool_id IS NOT NULL GROUP BY pool_id) d ON d.pool_id = p.id";
var SORT_COLUMN = { total_staked: "total_staked", stakers: "staker_count", apy: "apy_bps" };
function view(r) {
    var total = BigInt(r.total_staked);
    return {
        id: r.id,
        influencer: { username: r.username, displayName: r.display_name },
        name: r.name,
        description: r.description,
        revenueShareBps: r.revenue_share_bps,
        effectiveRevenueShareBps: (0, tiers_1.effectiveShareBps)(r.revenue_share_bps, total),
        tier: (0, tiers_1.tierFor)(total).name,
        minStake: r.min_stake,
        totalStaked: r.total_staked,
        stakerCount: r.staker_count,
        apyBps: String(r.apy_bps),
        createdAt: new Date(r.created_at).toISOString(),
    };
}
var PoolService = /** @class */ (function () {
    function PoolService(sequelize, ledger, cache, logger) {
        this.sequelize = sequelize;
        this.ledger = ledger;
        this.cache = cache;
        this.logger = logger;
    }
    PoolService.prototype.create = function (influencerId, input) {
        return __awaiter(this, void 0, void 0, function () {
            var rows;
            return __generator(this, function (_a) {
                switch (_a.label) {
                    case 0: return [4 /*yield*/, this.sequelize.query("INSERT INTO pools (influencer_id, name, description, revenue_share_bps, min_stake) VALUES ($1, $2, $3, $4, $5::numeric)\n       ON CONFLICT (influencer_id) DO NOTHING RETURNING id", { bind: [influencerId, input.name, input.description, input.revenueShareBps, input.minStake.toString()], type: sequelize_1.QueryTypes.SELECT })];
                    case 1:
                        rows = _a.sent();
                        if (!rows[0])
                            throw new errors_1.ApiError("CONFLICT", "this influencer already has a pool", { details: { reason: "POOL_EXISTS" } });
                        return [4 /*yield*/, this.cache.invalidate()];
                    case 2:
                        _a.sent();
                        return [4 /*yield*/, this.load(rows[0].id)];
                    case 3: return [2 /*return*/, (_a.sent())];
                }
            });
        });
    };
    PoolService.prototype.update = function (influencerId, poolId, patch) {
        return __awaiter(this, void 0, void 0, function () {
            var owner;
            var _a, _b;
            return __generator(this, function (_c) {
                switch (_c.label) {
                    case 0: return [4 /*yield*/, this.ownerOf(poolId)];
                    case 1:
                        owner = _c.sent();
                        if (owner !== influencerId)
                            throw (0, errors_1.forbidden)("only the pool's influencer may change it");
                        return [4 /*yield*/, this.sequelize.query("UPDATE pools SET name = COALESCE($2, name), description = COALESCE($3, description),\n         revenue_share_bps = COALESCE($4, revenue_share_bps), min_stake = COALESCE($5::numeric, min_stake), updated_at = now()\n       WHERE id = $1", { bind: [poolId, input(patch.name), input(patch.description), input(patch.revenueShareBps), (_b = (_a = patch.minStake) === null || _a === void 0 ? void 0 : _a.toString()) !== null && _b !== void 0 ? _b : null] })];
                    case 2:
                        _c.sent();
                        return [4 /*yield*/, this.cache.invalidate()];
                    case 3:
                        _c.sent();
                        return [4 /*yield*/, this.load(poolId)];
                    case 4: return [2 /*return*/, (_c.sent())];
                }
            });
        });
    };
    PoolService.prototype.ownerOf = function (poolId) {
        return __awaiter(this, void 0, void 0, function () {
            var row;
            return __generator(this, function (_a) {
                switch (_a.label) {
                    case 0:
                        if (!exports.UUID_PATTERN.test(poolId))
                            throw (0, errors_1.notFound)("pool not found");
                        return [4 /*yield*/, this.sequelize.query("SELECT influencer_id FROM pools WHERE id = $1", {
                                bind: [poolId],
                                type: sequelize_1.QueryTypes.SELECT,
                            })];
                    case 1:
                        row = (_a.sent())[0];
                        if (!row)
                            throw (0, errors_1.notFound)("pool not found");
                        return [2 /*return*/, row.influencer_id];
                }
            });
        });
    };
    PoolService.prototype.load = function (poolId) {
        return __awaiter(this, void 0, void 0, function () {
            var row;
            return __generator(this, function (_a) {
                switch (_a.label) {
                    case 0: return [4 /*yield*/, this.sequelize.query("".concat(POOL_SELECT, " WHERE p.id = $1"), { bind: [poolId], type: sequelize_1.QueryTypes.SELECT })];
                    case 1:
                        row = (_a.sent())[0];
                        return [2 /*return*/, row ? view(row) : null];
                }
            });
        });
    };
    PoolService.prototype.get = function (poolId) {
        return __awaiter(this, void 0, void 0, function () {
            var pool;
            var _this = this;
            return __generator(this, function (_a) {
                switch (_a.label) {
                    case 0:
                        if (!exports.UUID_PATTERN.test(poolId))
                            throw (0, errors_1.notFound)("pool not found");
                        return [4 /*yield*/, this.cache.read("one", poolId, function () { return _this.load(poolId); })];
                    case 1:
                        pool = _a.sent();
                        if (!pool)
                            throw (0, errors_1.notFound)("pool not found");
                        return [2 /*return*/, pool];
                }
            });
        });
    };
    PoolService.prototype.list = function (query) {
        return __awaiter(this, void 0, void 0, function () {
            var cursor;
            var _this = this;
            return __generator(this, function (_a) {
                cursor = query.cursor ? decodeCursor(query.cursor) : null;
                return [2 /*return*/, this.cache.read("list", query, function () { return __awaiter(_this, void 0, void 0, function () {
                        var col, bind, where, rows, page, last, sortValue;
                        return __generator(this, function (_a) {
                            switch (_a.label) {
                                case 0:
                                    col = SORT_COLUMN[query.sort];
                                    bind = [];
                                    where = [];
                                    if (query.q) {
                                        bind.push("%".concat(query.q.replace(/[\\%_]/g, function (c) { return "\\".concat(c); }), "%"));
                                        where.push("(q.name ILIKE $".concat(bind.length, " OR q.description ILIKE $").concat(bind.length, " OR q.username ILIKE $").concat(bind.length, " OR q.display_name ILIKE $").concat(bind.length, ")"));
                                    }
                                    if (cursor) {
                                        bind.push(cursor.v, cursor.id);
                                        where.push("(q.".concat(col, "::numeric < $").concat(bind.length - 1, "::numeric OR (q.").concat(col, "::numeric = $").concat(bind.length - 1, "::numeric AND q.id < $").concat(bind.length, "::uuid))"));
                                    }
                                    bind.push(query.limit + 1);
                                    return [4 /*yield*/, this.sequelize.query("SELECT * FROM (".concat(POOL_SELECT, ") q ").concat(where.length ? "WHERE ".concat(where.join(" AND ")) : "", "\n         ORDER BY q.").concat(col, " DESC, q.id DESC LIMIT $").concat(bind.length), { bind: bind, type: sequelize_1.QueryTypes.SELECT })];
                                case 1:
                                    rows = _a.sent();
                                    page = rows.slice(0, query.limit);
                                    last = page[page.length - 1];
                                    sortValue = function (r) { return String(query.sort === "stakers" ? r.staker_count : query.sort === "apy" ? r.apy_bps : r.total_staked); };
                                    return [2 /*return*/, { pools: page.map(view), nextCursor: rows.length > query.limit && last ? encodeCursor({ v: sortValue(last), id: last.id }) : null }];
                            }
                        });
                    }); })];
            });
        });
    };
    PoolService.prototype.lockPool = function (t, poolId, mode) {
        return __awaiter(this, void 0, void 0, function () {
            var row;
            return __generator(this, function (_a) {
                switch (_a.label) {
                    case 0:
                        if (!exports.UUID_PATTERN.test(poolId))
                            throw (0, errors_1.notFound)("pool not found");
                        return [4 /*yield*/, this.sequelize.query("SELECT id, influencer_id, min_stake::text AS min_stake, revenue_share_bps, total_staked::text AS total_staked FROM pools WHERE id = $1 FOR ".concat(mode), { bind: [poolId], transaction: t, type: sequelize_1.QueryTypes.SELECT })];
                    case 1:
                        row = (_a.sent())[0];
                        if (!row)
                            throw (0, errors_1.notFound)("pool not found");
                        return [2 /*return*/, row];
                }
            });
        });
    };
    /** available -> stake account; the position must reach the pool's minimum stake. */
    PoolService.prototype.stake = function (t, wallet, poolId, amount, opId) {
        return __awaiter(this, void 0, void 0, function () {
            return __generator(this, function (_a) {
                return [2 /*return*/, this.moveStake(t, wallet, poolId, amount, opId, "stake")];
            });
        });
    };
    /** stake account -> available; what remains must be 0 or at least the minimum stake. */
    PoolService.prototype.unstake = function (t, wallet, poolId, amount, opId) {
        return __awaiter(this, void 0, void 0, function () {
            return __generator(this, function (_a) {
                return [2 /*return*/, this.moveStake(t, wallet, poolId, amount, opId, "unstake")];
            });
        });
    };
    PoolService.prototype.moveStake = function (t, wallet, poolId, amount, opId, kind) {
        return __awaiter(this, void 0, void 0, function () {
            var pool, stakeAcc, availableAcc, _a, from, to, balances, staked, minStake, before, delta, stakerDelta, updated;
            return __generator(this, function (_b) {
                switch (_b.label) {
                    case 0: return [4 /*yield*/, this.lockPool(t, poolId, "UPDATE")];
                    case 1:
                        pool = _b.sent();
                        stakeAcc = ledger_1.account.stake(wallet, poolId);
                        availableAcc = ledger_1.account.available(wallet);
                        _a = kind === "stake" ? [availableAcc, stakeAcc] : [stakeAcc, availableAcc], from = _a[0], to = _a[1];
                        return [4 /*yield*/, this.ledger.transfer(t, { id: "".concat(kind, ":").concat(wallet, ":").concat(opId), from: from, to: to, amount: amount, kind: kind, reference: poolId })];
                    case 2:
                        balances = (_b.sent()).balances;
                        staked = balances.get(stakeAcc.key);
                        minStake = BigInt(pool.min_stake);
                        if (staked !== 0n && staked < minStake) {
                            throw new errors_1.ApiError("VALIDATION_ERROR", "a position in this pool must be 0 or at least ".concat((0, amount_1.formatAmount)(minStake)), {
                                details: { reason: "BELOW_MIN_STAKE", minStake: (0, amount_1.formatAmount)(minStake), resulting: (0, amount_1.formatAmount)(staked) },
                            });
                        }
                        before = kind === "stake" ? staked - amount : staked + amount;
                        delta = kind === "stake" ? amount : -amount;
                        stakerDelta = before === 0n && staked > 0n ? 1 : before > 0n && staked === 0n ? -1 : 0;
                        return [4 /*yield*/, this.sequelize.query("UPDATE pools SET total_staked = total_staked + $2::numeric, staker_count = staker_count + $3, updated_at = now()\n       WHERE id = $1 RETURNING total_staked::text AS total_staked, staker_count", { bind: [poolId, delta.toString(), stakerDelta], transaction: t, type: sequelize_1.QueryTypes.SELECT })];
                    case 3:
                        updated = (_b.sent())[0];
                        return [2 /*return*/, {
                                poolId: poolId,
                                staked: (0, amount_1.formatAmount)(staked),
                                available: (0, amount_1.formatAmount)(balances.get(availableAcc.key)),
                                pool: { totalStaked: updated.total_staked, stakerCount: updated.staker_count },
                            }];
                }
            });
        });
    };
    /** pool rewards -> available: `amount`, or everything claimable when omitted. */
    PoolService.prototype.claim = function (t, wallet, poolId, amount, opId) {
        return __awaiter(this, void 0, void 0, function () {
            var rewardsAcc, availableAcc, claimable, take, balances;
            return __generator(this, function (_a) {
                switch (_a.label) {
                    case 0: return [4 /*yield*/, this.lockPool(t, poolId, "UPDATE")];
                    case 1:
                        _a.sent();
                        rewardsAcc = ledger_1.account.poolRewards(wallet, poolId);
                        availableAcc = ledger_1.account.available(wallet);
                        return [4 /*yield*/, this.ledger.balance(rewardsAcc.key, t)];
                    case 2:
                        claimable = _a.sent();
                        take = amount !== null && amount !== void 0 ? amount : claimable;
                        if (take === 0n)
                            throw new errors_1.ApiError("NOTHING_TO_CLAIM", "nothing to claim in this pool", { status: 409 });
                        return [4 /*yield*/, this.ledger.transfer(t, { id: "claim:".concat(wallet, ":").concat(opId), from: rewardsAcc, to: availableAcc, amount: take, kind: "claim", reference: poolId })];
                    case 3:
                        balances = (_a.sent()).balances;
                        return [2 /*return*/, { poolId: poolId, claimed: (0, amount_1.formatAmount)(take), claimable: (0, amount_1.formatAmount)(balances.get(rewardsAcc.key)), available: (0, amount_1.formatAmount)(balances.get(availableAcc.key)) }];
                }
            });
        });
    };
    /**
     * The commission hook (runs in the conversion's transaction). The pool's effective revenue share
     * goes to its stakers pro rata (pool rewards accounts, claimable), the rest to the influencer's
     * available account. Idempotent per conversion (transfer ids and pool_distributions.conversion_id).
     */
    PoolService.prototype.distribute = function (t, booked) {
        return __awaiter(this, void 0, void 0, function () {
            var inf, shareBps, positions, pool, rows, split, recorded, source, transfers;
            return __generator(this, function (_a) {
                switch (_a.label) {
                    case 0:
                        if (booked.currency !== "TWIST") {
                            this.logger.warn({ conversionId: booked.conversionId, currency: booked.currency }, "commission not in TWIST: not distributed on the ledger");
                            return [2 /*return*/];
                        }
                        return [4 /*yield*/, this.sequelize.query("SELECT u.wallet_address AS wallet, p.id AS pool_id FROM influencers i JOIN users u ON u.id = i.user_id\n       LEFT JOIN pools p ON p.influencer_id = i.id WHERE i.id = $1", { bind: [booked.influencerId], transaction: t, type: sequelize_1.QueryTypes.SELECT })];
                    case 1:
                        inf = (_a.sent())[0];
                        if (!inf)
                            throw new Error("influencer ".concat(booked.influencerId, " not found for commission"));
                        shareBps = 0;
                        positions = [];
                        if (!inf.pool_id) return [3 /*break*/, 4];
                        return [4 /*yield*/, this.lockPool(t, inf.pool_id, "SHARE")];
                    case 2:
                        pool = _a.sent();
                        shareBps = (0, tiers_1.effectiveShareBps)(pool.revenue_share_bps, BigInt(pool.total_staked));
                        return [4 /*yield*/, this.sequelize.query("SELECT owner_wallet AS wallet, balance::text AS balance FROM ledger_accounts WHERE kind = 'stake' AND ref = $1 AND balance > 0", { bind: [inf.pool_id], transaction: t, type: sequelize_1.QueryTypes.SELECT })];
                    case 3:
                        rows = _a.sent();
                        positions = rows.map(function (r) { return ({ wallet: r.wallet, amount: BigInt(r.balance) }); });
                        _a.label = 4;
                    case 4:
                        split = (0, tiers_1.splitCommission)(booked.commission, shareBps, positions);
                        return [4 /*yield*/, this.sequelize.query("INSERT INTO pool_distributions (conversion_id, influencer_id, pool_id, commission, revenue_share_bps, stakers_amount, influencer_amount, staker_count)\n       VALUES ($1, $2, $3, $4::numeric, $5, $6::numeric, $7::numeric, $8) ON CONFLICT (conversion_id) DO NOTHING RETURNING id", {
                                bind: [booked.conversionId, booked.influencerId, inf.pool_id, booked.commission.toString(), shareBps, split.stakersAmount.toString(), split.influencerAmount.toString(), split.shares.length],
                                transaction: t,
                                type: sequelize_1.QueryTypes.SELECT,
                            })];
                    case 5:
                        recorded = _a.sent();
                        if (!recorded[0])
                            return [2 /*return*/]; // already distributed
                        source = ledger_1.account.system("commissions");
                        transfers = split.shares.map(function (s) { return ({
                            id: "commission:".concat(booked.conversionId, ":staker:").concat(s.wallet),
                            from: source,
                            to: ledger_1.account.poolRewards(s.wallet, inf.pool_id),
                            amount: s.amount,
                            kind: "commission_staker_share",
                            reference: booked.conversionId,
                        }); });
                        if (split.influencerAmount > 0n) {
                            transfers.push({
                                id: "commission:".concat(booked.conversionId, ":influencer"),
                                from: source,
                                to: ledger_1.account.available(inf.wallet),
                                amount: split.influencerAmount,
                                kind: "commission_influencer_share",
                                reference: booked.conversionId,
                            });
                        }
                        return [4 /*yield*/, this.ledger.post(t, transfers)];
                    case 6:
                        _a.sent();
                        return [2 /*return*/];
                }
            });
        });
    };
    /** The caller's positions: stake and claimable rewards per pool. */
    PoolService.prototype.stakesOf = function (wallet) {
        return __awaiter(this, void 0, void 0, function () {
            var rows;
            return __generator(this, function (_a) {
                switch (_a.label) {
                    case 0: return [4 /*yield*/, this.sequelize.query("SELECT p.id AS pool_id, p.name, i.username,\n              COALESCE(MAX(a.balance) FILTER (WHERE a.kind = 'stake'), 0)::text AS staked,\n              COALESCE(MAX(a.balance) FILTER (WHERE a.kind = 'pool_rewards'), 0)::text AS claimable\n       FROM ledger_accounts a JOIN pools p ON p.id::text = a.ref JOIN influencers i ON i.id = p.influencer_id\n       WHERE a.owner_wallet = $1 AND a.kind IN ('stake', 'pool_rewards')\n       GROUP BY p.id, p.name, i.username\n       HAVING COALESCE(MAX(a.balance) FILTER (WHERE a.kind = 'stake'), 0) > 0 OR COALESCE(MAX(a.balance) FILTER (WHERE a.kind = 'pool_rewards'), 0) > 0\n       ORDER BY p.name, p.id", { bind: [wallet], type: sequelize_1.QueryTypes.SELECT })];
                    case 1:
                        rows = _a.sent();
                        return [2 /*return*/, rows.map(function (r) { return ({ poolId: r.pool_id, poolName: r.name, influencer: r.username, staked: r.staked, claimable: r.claimable }); })];
                }
            });
        });
    };
    return PoolService;
}());
exports.PoolService = PoolService;
function input(value) {
    return value === undefined ? null : value;
}
function encodeCursor(c) {
    return Buffer.from(JSON.stringify(c)).toString("base64url");
}
function decodeCursor(text) {
    try {
        var c = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
        if (typeof c.v === "string" && /^[0-9]{1,40}$/.test(c.v) && typeof c.id === "string" && exports.UUID_PATTERN.test(c.id))
            return { v: c.v, id: c.id };
    }
    catch (_a) {
        // fall through
    }
    throw (0, errors_1.validationError)("cursor is invalid", [{ field: "cursor", message: "is not a cursor this API returned" }]);
}
