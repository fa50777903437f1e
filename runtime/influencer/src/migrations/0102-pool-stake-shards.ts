import { sqlMigration } from "./types";

// Hot pools (docs/ledger.md): a pool's total staked and staker count move from its row to 16 shard
// rows, each holding the positions of the wallets that hash to it, so concurrent stakes to one pool
// update different rows. The pool's figures are the sums over its shards.
export default sqlMigration(
  "0102-pool-stake-shards",
  `
  CREATE TABLE pool_stake_shards (
    pool_id uuid NOT NULL REFERENCES pools(id),
    shard smallint NOT NULL CHECK (shard BETWEEN 0 AND 15),
    total_staked NUMERIC(39,0) NOT NULL DEFAULT 0 CHECK (total_staked >= 0),
    staker_count integer NOT NULL DEFAULT 0 CHECK (staker_count >= 0),
    PRIMARY KEY (pool_id, shard)
  );
  INSERT INTO pool_stake_shards (pool_id, shard, total_staked, staker_count)
    SELECT ref::uuid, hashtext(owner_wallet) & 15, SUM(balance), COUNT(*) FILTER (WHERE balance > 0)
    FROM ledger_accounts WHERE kind = 'stake' GROUP BY 1, 2;
  DROP INDEX pools_total_staked_idx;
  DROP INDEX pools_staker_count_idx;
  ALTER TABLE pools DROP COLUMN total_staked, DROP COLUMN staker_count;
  `,
  `
  ALTER TABLE pools ADD COLUMN total_staked NUMERIC(39,0) NOT NULL DEFAULT 0 CHECK (total_staked >= 0),
                    ADD COLUMN staker_count integer NOT NULL DEFAULT 0 CHECK (staker_count >= 0);
  UPDATE pools p SET total_staked = s.total, staker_count = s.stakers
    FROM (SELECT pool_id, SUM(total_staked) AS total, SUM(staker_count) AS stakers FROM pool_stake_shards GROUP BY pool_id) s WHERE s.pool_id = p.id;
  CREATE INDEX pools_total_staked_idx ON pools (total_staked DESC, id DESC);
  CREATE INDEX pools_staker_count_idx ON pools (staker_count DESC, id DESC);
  DROP TABLE pool_stake_shards;
  `,
);
