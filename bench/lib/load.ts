// A closed-loop load generator: `concurrency` workers each run `step` back to back for `seconds`.
// Every step started is awaited before the figures are taken, so what was done and what was
// counted are the same set (no request is still in flight when a bench reads its totals).
import { usageError } from "../../scripts/lib/cli";
import { percentile } from "../report";

export interface LoadResult {
  /** Units of work done (what a step returned: e.g. 100 for a batch of 100 credits). */
  units: number;
  steps: number;
  errors: number;
  seconds: number;
  /** Per-step latencies (ms), ascending. */
  latencies: number[];
  perSecond: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  firstError?: string;
}

export async function closedLoop(options: { concurrency: number; seconds: number; step: (worker: number, n: number) => Promise<number> }): Promise<LoadResult> {
  const latencies: number[] = [];
  let units = 0;
  let steps = 0;
  let errors = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  await Promise.all(
    Array.from({ length: options.concurrency }, async (_, worker) => {
      for (let n = 0; performance.now() < deadline; n++) {
        const t0 = performance.now();
        try {
          const done = await options.step(worker, n); // not `units += await`: that reads units before the await
          units += done;
          latencies.push(performance.now() - t0);
        } catch (err) {
          errors++;
          firstError ??= err instanceof Error ? err.message : String(err);
        }
        steps++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    units,
    steps,
    errors,
    seconds,
    latencies,
    perSecond: units / seconds,
    p50Ms: percentile(latencies, 50),
    p95Ms: percentile(latencies, 95),
    p99Ms: percentile(latencies, 99),
    firstError,
  };
}

/** `value` as a list of positive integers ("8,32"), or a usage error naming the flag. */
export function integerList(flag: string, value: string, usage: string): number[] {
  const list = value.split(",").map((v) => Number(v.trim()));
  if (list.some((n) => !Number.isInteger(n) || n <= 0)) usageError(`--${flag} must be positive integers separated by commas`, usage);
  return list;
}
