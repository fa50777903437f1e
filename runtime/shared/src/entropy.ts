// Shannon entropy, the "looks random" signal shared by the policy pack's plaintext-secret rule and the
// repository's secret scanner. No imports: the CI scan runs it before dependencies are installed.

/** Shannon entropy in bits per character. */
export function entropy(text: string): number {
  const counts = new Map<string, number>();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / text.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}
