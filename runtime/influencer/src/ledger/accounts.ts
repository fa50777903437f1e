// Ledger account naming. Every account has a stable key; user-owned accounts never go negative,
// system accounts (the platform's side of each movement) may.

export interface AccountSpec {
  key: string;
  owner: string | null;
  kind: AccountKind;
  ref: string | null;
  allowNegative: boolean;
}

export type SystemAccount = "rewards" | "commissions" | "fees" | "settlement";
export type UserAccountKind = "available" | "stake" | "pool_rewards" | "payout_pending";
export type AccountKind = UserAccountKind | `system_${SystemAccount}`;

export const CURRENCY = "TWIST";

/**
 * Rows a hot system account is split into (docs/ledger.md, hot accounts): shard 0 is `system:<name>`,
 * shard k `system:<name>:<k>`; the account's balance is the sum over its kind. Postings that take
 * different shards never wait for each other's row lock.
 */
export const SYSTEM_SHARDS = 16;

/** The shard of a posting keyed by `key` (a conversion id): spread over SYSTEM_SHARDS, and the same on a retry. */
export function systemShardOf(key: string): number {
  let hash = 0x811c9dc5; // FNV-1a
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % SYSTEM_SHARDS;
}

export const account = {
  /** Platform side: reward emissions, commissions paid in, fees earned, funds sent out by settlement. */
  system: (name: SystemAccount, shard = 0): AccountSpec => ({
    key: shard === 0 ? `system:${name}` : `system:${name}:${shard}`,
    owner: null,
    kind: `system_${name}`,
    ref: null,
    allowNegative: true,
  }),
  /** Spendable balance of a wallet. */
  available: (wallet: string): AccountSpec => user(wallet, "available", null),
  /** Funds a wallet has locked in one pool. */
  stake: (wallet: string, poolId: string): AccountSpec => user(wallet, "stake", poolId),
  /** Revenue share distributed to a staker by one pool, claimable into `available`. */
  poolRewards: (wallet: string, poolId: string): AccountSpec => user(wallet, "pool_rewards", poolId),
  /** Funds reserved by pending payouts. */
  payoutPending: (wallet: string): AccountSpec => user(wallet, "payout_pending", null),
};

function user(wallet: string, kind: UserAccountKind, ref: string | null): AccountSpec {
  return { key: ref ? `user:${wallet}:${kind}:${ref}` : `user:${wallet}:${kind}`, owner: wallet, kind, ref, allowNegative: false };
}
