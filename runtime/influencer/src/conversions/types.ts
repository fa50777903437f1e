// The commission hook between part 1 (conversions) and part 2 (ledger). Part 1 calls it inside the
// conversion's own transaction; part 2 implements it. Part 1 never imports the ledger.
import type { Transaction } from "sequelize";

export interface CommissionBooked {
  conversionId: string;
  orderId: string;
  influencerId: string;
  linkId: string;
  /** Base units (contract 5). Only called when commission > 0. */
  commission: bigint;
  /** The conversion's currency (one of CONVERSION_CURRENCIES; TWIST by default). */
  currency: string;
}

/** Runs in the conversion's transaction: a throw rolls the conversion back (the merchant gets 5xx and retries). */
export type OnCommissionBooked = (t: Transaction, booked: CommissionBooked) => Promise<void>;
