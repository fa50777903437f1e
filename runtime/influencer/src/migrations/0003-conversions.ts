import { sqlMigration } from "./types";

// Merchant-reported orders, idempotent on order_id (request_hash tells a replay from a conflict).
export default sqlMigration(
  "0003-conversions",
  `
  CREATE TABLE conversions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id varchar(128) NOT NULL,
    request_hash char(64) NOT NULL,
    amount numeric(39,0) NOT NULL CHECK (amount > 0),
    currency varchar(10) NOT NULL,
    attribution varchar(16) NOT NULL CHECK (attribution IN ('last-click', 'first-click', 'unattributed')),
    click_id uuid REFERENCES clicks(id),
    link_id uuid REFERENCES links(id),
    influencer_id uuid REFERENCES influencers(id),
    commission_bps integer,
    commission numeric(39,0) NOT NULL DEFAULT 0 CHECK (commission >= 0),
    occurred_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT conversions_order_id_key UNIQUE (order_id)
  );
  CREATE INDEX conversions_link_id_occurred_at_idx ON conversions (link_id, occurred_at);
  CREATE INDEX conversions_click_id_idx ON conversions (click_id);
  CREATE INDEX conversions_influencer_id_idx ON conversions (influencer_id);
  `,
  `DROP TABLE conversions;`,
);
