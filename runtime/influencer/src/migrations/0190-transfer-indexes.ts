import { sqlMigration } from "./types";

// Every transfer is written once and its indexes with it, so each index is paid by every credit.
// The single-column account indexes of 0100 are prefixes of the (account, seq) indexes of 0120,
// which serve every lookup by account (foreign-key checks, history, payout items, invariants).
export default sqlMigration(
  "0190-transfer-indexes",
  `
  DROP INDEX IF EXISTS ledger_transfers_debit_idx;
  DROP INDEX IF EXISTS ledger_transfers_credit_idx;
  `,
  `
  CREATE INDEX IF NOT EXISTS ledger_transfers_debit_idx ON ledger_transfers (debit_account_id);
  CREATE INDEX IF NOT EXISTS ledger_transfers_credit_idx ON ledger_transfers (credit_account_id);
  `,
);
