// Benchmarks print their own readable output; each also hands its headline figures to `report`, which
// bench/run collects into docs/performance.md. Run alone, a bench just prints.
import { appendFileSync } from "node:fs";

export interface Figure {
  /** What was measured, e.g. "sign-ins (nonce + verify)". */
  metric: string;
  /** Throughput per second, when it is a rate. */
  perSecond?: number;
  p50Ms?: number;
  p95Ms?: number;
  p99Ms?: number;
  /** Anything else worth a column: a ratio, a count, a duration. */
  note?: string;
}

/** Records figures for bench/run (BENCH_REPORT names a JSON-lines file); a no-op otherwise. */
export function report(bench: string, figures: Figure[]): void {
  const file = process.env.BENCH_REPORT;
  if (!file) return;
  for (const f of figures) appendFileSync(file, `${JSON.stringify({ bench, ...f })}\n`);
}

/** Nearest-rank percentile of ascending latencies (ms). */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
