// Contract 5: amounts are integer base units (9 decimals) carried as decimal strings, bigint in code.

export const TWIST_DECIMALS = 9;
export const BASE_UNITS_PER_TWIST = 10n ** BigInt(TWIST_DECIMALS);
/** Largest accepted amount; leaves headroom below NUMERIC(39,0) for sums of balances. */
export const DEFAULT_MAX_AMOUNT = 10n ** 30n - 1n;

export class AmountError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AmountError";
  }
}

/**
 * Parses a positive integer string of base units. Rejects zero, signs, decimals, exponents,
 * whitespace, leading zeros and values above `max`.
 */
export function parseAmount(value: unknown, max: bigint = DEFAULT_MAX_AMOUNT): bigint {
  if (typeof value !== "string") throw new AmountError("amount must be a string of base units");
  if (!/^[1-9][0-9]{0,39}$/.test(value)) throw new AmountError("amount must be a positive integer string without sign, decimals or exponent");
  const amount = BigInt(value);
  if (amount > max) throw new AmountError(`amount must not exceed ${max}`);
  return amount;
}

/** True when `value` is a valid amount string; for schema validators. */
export function isAmount(value: unknown, max: bigint = DEFAULT_MAX_AMOUNT): value is string {
  try {
    parseAmount(value, max);
    return true;
  } catch {
    return false;
  }
}

export function formatAmount(amount: bigint): string {
  return amount.toString(10);
}

/** Whole TWIST to base units, for documented constants such as tier thresholds. */
export function twist(whole: number | bigint): bigint {
  return BigInt(whole) * BASE_UNITS_PER_TWIST;
}
