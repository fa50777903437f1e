import { sqlMigration } from "./types";

// The double-entry ledger (contract 5), idempotency keys of money routes, daily reward totals.
export default sqlMigration(
  "0100-ledger",
  `
  CREATE TABLE IF NOT EXISTS ledger_accounts (
     id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
     key text NOT NULL UNIQUE,
     owner_wallet text,
     kind text NOT NULL,
     ref text,
     currency text NOT NULL DEFAULT 'TWIST',
     allow_negative boolean NOT NULL DEFAULT false,
     balance NUMERIC(39,0) NOT NULL DEFAULT 0,
     created_at timestamptz NOT NULL DEFAULT now(),
     CONSTRAINT ledger_accounts_user_never_negative_flag CHECK (owner_wallet IS NULL OR NOT allow_negative),
     CONSTRAINT ledger_accounts_balance_non_negative CHECK (allow_negative OR balance >= 0)
   );
  CREATE INDEX IF NOT EXISTS ledger_accounts_owner_idx ON ledger_accounts (owner_wallet);
  CREATE INDEX IF NOT EXISTS ledger_accounts_kind_ref_idx ON ledger_accounts (kind, ref) WHERE ref IS NOT NULL;
  CREATE TABLE IF NOT EXISTS ledger_transfers (
     id text PRIMARY KEY,
     debit_account_id uuid NOT NULL REFERENCES ledger_accounts(id),
     credit_account_id uuid NOT NULL REFERENCES ledger_accounts(id),
     amount NUMERIC(39,0) NOT NULL CHECK (amount > 0),
     kind text NOT NULL,
     reference text,
     created_at timestamptz NOT NULL DEFAULT now(),
     CONSTRAINT ledger_transfers_distinct_accounts CHECK (debit_account_id <> credit_account_id)
   );
  CREATE INDEX IF NOT EXISTS ledger_transfers_debit_idx ON ledger_transfers (debit_account_id);
  CREATE INDEX IF NOT EXISTS ledger_transfers_credit_idx ON ledger_transfers (credit_account_id);
  CREATE OR REPLACE FUNCTION ledger_transfers_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN RAISE EXCEPTION 'ledger_transfers rows are immutable'; END $$;
  DROP TRIGGER IF EXISTS ledger_transfers_no_change ON ledger_transfers;
  CREATE TRIGGER ledger_transfers_no_change BEFORE UPDATE OR DELETE ON ledger_transfers
     FOR EACH ROW EXECUTE FUNCTION ledger_transfers_immutable();
  CREATE TABLE IF NOT EXISTS idempotency_keys (
     wallet text NOT NULL,
     key text NOT NULL,
     request_hash text NOT NULL,
     status integer NOT NULL,
     response jsonb NOT NULL,
     created_at timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (wallet, key)
   );
  CREATE TABLE IF NOT EXISTS reward_daily_totals (
     wallet text NOT NULL,
     day date NOT NULL,
     total NUMERIC(39,0) NOT NULL DEFAULT 0,
     PRIMARY KEY (wallet, day)
   );
  `,
  `DROP TABLE IF EXISTS reward_daily_totals; DROP TABLE IF EXISTS idempotency_keys; DROP TABLE IF EXISTS ledger_transfers; DROP FUNCTION IF EXISTS ledger_transfers_immutable(); DROP TABLE IF EXISTS ledger_accounts;`,
);
