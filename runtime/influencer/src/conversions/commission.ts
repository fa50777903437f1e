// The commission rule, a pure function:
//
//   commission = floor(amount * rateBps / 10_000)
//
// where rateBps is the link's own rate (links.commission_bps, set by operators per merchant
// agreement) or, when the link has none, COMMISSION_DEFAULT_BPS (default 1000 = 10 %). Amounts are
// integer base units (bigint); rounding is always down, so the commission never exceeds the rate.
export const BPS_DENOMINATOR = 10_000n;

export function commissionRate(linkRateBps: number | null, defaultRateBps: number): number {
  return linkRateBps ?? defaultRateBps;
}

export function computeCommission(amount: bigint, rateBps: number): bigint {
  if (amount <= 0n) throw new RangeError("amount must be positive");
  if (!Number.isInteger(rateBps) || rateBps < 0 || rateBps > 10_000) throw new RangeError("rate must be 0-10000 basis points");
  return (amount * BigInt(rateBps)) / BPS_DENOMINATOR;
}
