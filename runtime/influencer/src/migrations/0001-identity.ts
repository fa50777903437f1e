import { sqlMigration } from "./types";

// Users are keyed by the wallet address from the verified JWT; an influencer is a registered user.
export default sqlMigration(
  "0001-identity",
  `
  CREATE TABLE users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    wallet_address varchar(44) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_wallet_address_key UNIQUE (wallet_address)
  );
  CREATE TABLE influencers (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users(id),
    username varchar(32) NOT NULL,
    display_name varchar(80) NOT NULL,
    email varchar(254) NOT NULL,
    email_verified_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT influencers_user_id_key UNIQUE (user_id),
    CONSTRAINT influencers_username_key UNIQUE (username)
  );
  CREATE TABLE email_verifications (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    influencer_id uuid NOT NULL REFERENCES influencers(id) ON DELETE CASCADE,
    email varchar(254) NOT NULL,
    token_hash char(64) NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT email_verifications_token_hash_key UNIQUE (token_hash)
  );
  CREATE INDEX email_verifications_influencer_id_idx ON email_verifications (influencer_id);
  `,
  `DROP TABLE email_verifications; DROP TABLE influencers; DROP TABLE users;`,
);
