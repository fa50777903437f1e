import { sqlMigration } from "./types";

// Staking pools, commission distributions, payouts.
export default sqlMigration(
  "0101-pools-payouts",
  `
  CREATE TABLE pools (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    influencer_id uuid NOT NULL REFERENCES influencers(id),
    name varchar(80) NOT NULL,
    description varchar(500) NOT NULL DEFAULT '',
    revenue_share_bps integer NOT NULL CHECK (revenue_share_bps BETWEEN 0 AND 5000),
    min_stake NUMERIC(39,0) NOT NULL CHECK (min_stake > 0),
    total_staked NUMERIC(39,0) NOT NULL DEFAULT 0 CHECK (total_staked >= 0),
    staker_count integer NOT NULL DEFAULT 0 CHECK (staker_count >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pools_influencer_id_key UNIQUE (influencer_id)
  );
  CREATE INDEX pools_total_staked_idx ON pools (total_staked DESC, id DESC);
  CREATE INDEX pools_staker_count_idx ON pools (staker_count DESC, id DESC);
  CREATE TABLE pool_distributions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    conversion_id uuid NOT NULL,
    influencer_id uuid NOT NULL REFERENCES influencers(id),
    pool_id uuid REFERENCES pools(id),
    commission NUMERIC(39,0) NOT NULL CHECK (commission > 0),
    revenue_share_bps integer NOT NULL,
    stakers_amount NUMERIC(39,0) NOT NULL CHECK (stakers_amount >= 0),
    influencer_amount NUMERIC(39,0) NOT NULL CHECK (influencer_amount >= 0),
    staker_count integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pool_distributions_conversion_id_key UNIQUE (conversion_id),
    CONSTRAINT pool_distributions_adds_up CHECK (stakers_amount + influencer_amount = commission)
  );
  CREATE INDEX pool_distributions_pool_created_idx ON pool_distributions (pool_id, created_at);
  CREATE INDEX pool_distributions_influencer_id_idx ON pool_distributions (influencer_id);
  CREATE TABLE payouts (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    wallet varchar(44) NOT NULL,
    amount NUMERIC(39,0) NOT NULL CHECK (amount > 0),
    fee NUMERIC(39,0) NOT NULL CHECK (fee >= 0),
    net NUMERIC(39,0) NOT NULL CHECK (net > 0),
    destination varchar(44) NOT NULL,
    status varchar(16) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'settled', 'voided')),
    adapter varchar(16) NOT NULL,
    tx_signature varchar(128),
    attempt_signature varchar(128),
    attempt_last_valid_height bigint,
    attempts integer NOT NULL DEFAULT 0,
    failure_reason varchar(500),
    created_at timestamptz NOT NULL DEFAULT now(),
    settled_at timestamptz,
    voided_at timestamptz,
    CONSTRAINT payouts_net_plus_fee CHECK (net + fee = amount),
    CONSTRAINT payouts_signature_only_when_settled CHECK (tx_signature IS NULL OR status = 'settled')
  );
  CREATE INDEX payouts_wallet_created_idx ON payouts (wallet, created_at DESC, id DESC);
  CREATE INDEX payouts_pending_idx ON payouts (created_at) WHERE status = 'pending';
  `,
  `DROP TABLE payouts; DROP TABLE pool_distributions; DROP TABLE pools;`,
);
