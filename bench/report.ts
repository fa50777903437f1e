// Benchmarks print their own readable output; each also hands its headline figures to `report`, which
// bench/run collects into docs/performance.md. Run alone, a bench just prints.
import { appendFileSync, readFileSync, readdirSync } from "node:fs";

export interface Figure {
  /** What was measured, e.g. "sign-ins (nonce + verify)". */
  metric: string;
  /** Throughput per second, when it is a rate. */
  perSecond?: number;
  p50Ms?: number;
  p95Ms?: number;
  p99Ms?: number;
  /** Peak resident memory of the system under test (the service process, or workerd). */
  peakRssMiB?: number;
  /** Anything else worth a column: a ratio, a count, a duration. */
  note?: string;
  /** Where bench/run charts it: one line per path, throughput against concurrency (limits named "(limit)"). */
  chart?: { path: string; concurrency: number };
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

/** Peak resident set size (VmHWM) of a live process in MiB, from /proc; undefined where unavailable. */
export function peakRssMiB(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const kb = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kb ? Number(kb) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU time (user + system, ms) a live process has used so far, from /proc (100 ticks a second); undefined where unavailable. */
export function cpuTimeMs(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** Live descendants of this process whose command name is `comm` (e.g. the workerd Miniflare starts). */
export function descendantPids(comm: string, root = process.pid): number[] {
  const parents = new Map<number, number>();
  const names = new Map<number, string>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      names.set(Number(entry), stat.slice(stat.indexOf("(") + 1, close));
      parents.set(Number(entry), Number(stat.slice(close + 2).split(" ")[1]));
    } catch {
      // exited while we looked
    }
  }
  const isDescendant = (pid: number): boolean => {
    for (let p = parents.get(pid); p !== undefined && p > 1; p = parents.get(p)) if (p === root) return true;
    return false;
  };
  return [...names].filter(([pid, name]) => name === comm && isDescendant(pid)).map(([pid]) => pid);
}
