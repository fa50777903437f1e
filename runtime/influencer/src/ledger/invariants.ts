// The ledger's invariants (and the pool totals kept beside it) as one query set; tests run it after every scenario, operators can too
// (docs/ledger.md). Returns the violations found; an empty list means the ledger is consistent.
import { QueryTypes, type Sequelize } from "sequelize";

export interface InvariantReport {
  /** Sum of every balance; must be 0 (double entry). */
  sum: bigint;
  /** User-owned accounts below zero; must be empty. */
  negativeUserAccounts: string[];
  /** Accounts whose balance differs from credits minus debits of their transfers; must be empty. */
  driftedAccounts: string[];
  /** Transfers naming an account that does not exist; must be empty. */
  orphanTransfers: string[];
  /** Pool stake shards whose total or staker count differs from the stake accounts they count; must be empty. */
  driftedPoolShards: string[];
  violations: string[];
}

export async function checkLedgerInvariants(sequelize: Sequelize): Promise<InvariantReport> {
  const [sumRow] = await sequelize.query<{ sum: string }>(`SELECT COALESCE(SUM(balance), 0)::text AS sum FROM ledger_accounts`, { type: QueryTypes.SELECT });
  const negative = await sequelize.query<{ key: string }>(`SELECT key FROM ledger_accounts WHERE owner_wallet IS NOT NULL AND balance < 0`, {
    type: QueryTypes.SELECT,
  });
  const drifted = await sequelize.query<{ key: string }>(
    `SELECT a.key FROM ledger_accounts a
     LEFT JOIN (SELECT credit_account_id AS id, SUM(amount) AS s FROM ledger_transfers GROUP BY credit_account_id) c ON c.id = a.id
     LEFT JOIN (SELECT debit_account_id AS id, SUM(amount) AS s FROM ledger_transfers GROUP BY debit_account_id) d ON d.id = a.id
     WHERE a.balance <> COALESCE(c.s, 0) - COALESCE(d.s, 0)`,
    { type: QueryTypes.SELECT },
  );
  // No foreign keys enforce this (migration 0200): the ledger inserts transfers through a join on their accounts.
  const orphans = await sequelize.query<{ id: string }>(
    `SELECT t.id FROM ledger_transfers t
     WHERE NOT EXISTS (SELECT 1 FROM ledger_accounts a WHERE a.id = t.debit_account_id) OR NOT EXISTS (SELECT 1 FROM ledger_accounts a WHERE a.id = t.credit_account_id)`,
    { type: QueryTypes.SELECT },
  );
  const shards = await sequelize.query<{ shard: string }>(
    `SELECT COALESCE(s.pool_id, a.pool_id) || '#' || COALESCE(s.shard, a.shard) AS shard
     FROM pool_stake_shards s
     FULL JOIN (SELECT ref::uuid AS pool_id, (hashtext(owner_wallet) & 15)::smallint AS shard, SUM(balance) AS total, COUNT(*) FILTER (WHERE balance > 0) AS stakers
                FROM ledger_accounts WHERE kind = 'stake' GROUP BY 1, 2) a ON a.pool_id = s.pool_id AND a.shard = s.shard
     WHERE COALESCE(s.total_staked, 0) <> COALESCE(a.total, 0) OR COALESCE(s.staker_count, 0) <> COALESCE(a.stakers, 0)`,
    { type: QueryTypes.SELECT },
  );
  const sum = BigInt(sumRow!.sum);
  const violations: string[] = [];
  if (sum !== 0n) violations.push(`balances sum to ${sum}, not 0`);
  for (const r of negative) violations.push(`user account ${r.key} is negative`);
  for (const r of drifted) violations.push(`account ${r.key} balance differs from its transfers`);
  for (const r of orphans) violations.push(`transfer ${r.id} names an account that does not exist`);
  for (const r of shards) violations.push(`pool stake shard ${r.shard} differs from its stake accounts`);
  return {
    sum,
    negativeUserAccounts: negative.map((r) => r.key),
    driftedAccounts: drifted.map((r) => r.key),
    orphanTransfers: orphans.map((r) => r.id),
    driftedPoolShards: shards.map((r) => r.shard),
    violations,
  };
}
