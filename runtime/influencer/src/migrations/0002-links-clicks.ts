import { sqlMigration } from "./types";

// Referral links and the clicks counted on them. Clicks keep only salted hashes of the visitor.
export default sqlMigration(
  "0002-links-clicks",
  `
  CREATE TABLE links (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    influencer_id uuid NOT NULL REFERENCES influencers(id),
    code varchar(16) NOT NULL,
    target_url varchar(2048) NOT NULL,
    product_id varchar(64),
    promo_code varchar(64),
    commission_bps integer CHECK (commission_bps BETWEEN 0 AND 10000),
    expires_at timestamptz,
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    deactivated_at timestamptz,
    CONSTRAINT links_code_key UNIQUE (code)
  );
  CREATE INDEX links_influencer_id_idx ON links (influencer_id, created_at DESC);
  CREATE TABLE clicks (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    link_id uuid NOT NULL REFERENCES links(id),
    visitor_hash char(64) NOT NULL,
    ip_hash char(64) NOT NULL,
    occurred_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE INDEX clicks_link_id_occurred_at_idx ON clicks (link_id, occurred_at);
  CREATE INDEX clicks_visitor_hash_occurred_at_idx ON clicks (visitor_hash, occurred_at);
  `,
  `DROP TABLE clicks; DROP TABLE links;`,
);
