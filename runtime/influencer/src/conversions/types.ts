// The commission hook between conversions and the ledger: conversion booking calls it inside the
// conversion's own transaction and the ledger implements it (ledger/wiring.ts), so conversions never
// import the ledger.
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
