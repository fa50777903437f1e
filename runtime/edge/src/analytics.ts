// Workers Analytics Engine data points, so what happens at the edge is counted across every isolate
// (/metrics counts one isolate). Two datasets (bindings.ts): ANALYTICS, one point per request, and
// DEAD_LETTERS, one point per reward message the queue consumer dead-letters. Only route templates,
// methods, statuses, outcomes, causes and latencies: never a token, a header, a body, a wallet or an
// IP address.
//
// The column layouts below are the only declaration of which blob, double and index holds what:
// the Grafana dashboard and alert rule (ops/grafana) and docs/edge.md, docs/monitoring.md follow them
// (test/ops/edge-analytics.test.ts checks that every query reads the column its title claims).
// No Workers-only types here, so Node reads this module as it is.
import { DURATION_BUCKETS_MS } from "./metrics";

/** What Analytics Engine stores: index1, blob1..n, double1..n, in this order. */
export interface DataPoint {
  indexes: string[];
  blobs: string[];
  doubles: number[];
}

/** The part of an AnalyticsEngineDataset the Worker uses. */
export interface PointWriter {
  writeDataPoint(point: DataPoint): void;
}

/** A dataset's layout: the field behind index1, and the fields of blob1.., double1.. in order. */
export interface PointLayout {
  index: string;
  blobs: readonly string[];
  doubles: readonly string[];
}

export const REQUEST_POINT = {
  index: "route",
  blobs: ["route", "method", "outcome", "latencyBucket"],
  doubles: ["status", "durationMs"],
} as const satisfies PointLayout;

export const DEAD_LETTER_POINT = {
  index: "cause",
  blobs: ["cause"],
  doubles: ["attempts"],
} as const satisfies PointLayout;

type Field<L extends PointLayout> = L["blobs"][number] | L["doubles"][number];

/** The SQL column holding a field of a layout, e.g. column(REQUEST_POINT, "status") === "double1". */
export function column<L extends PointLayout>(layout: L, field: Field<L>): string {
  const blob = layout.blobs.indexOf(field);
  if (blob >= 0) return `blob${blob + 1}`;
  const double = layout.doubles.indexOf(field);
  if (double >= 0) return `double${double + 1}`;
  throw new Error(`${field} is not a field of this layout`);
}

function point<L extends PointLayout>(layout: L, values: Record<Field<L>, string | number>): DataPoint {
  const v = values as Record<string, string | number>;
  return {
    indexes: [String(v[layout.index])],
    blobs: layout.blobs.map((f) => String(v[f])),
    doubles: layout.doubles.map((f) => Number(v[f])),
  };
}

export interface RequestPoint {
  /** The matched route's path, or "unmatched"; never the raw path (it may carry anything). */
  route: string;
  method: string;
  status: number;
  /** Error code of the envelope (lowercase), or "ok". */
  outcome: string;
  durationMs: number;
}

export function dataPoint(p: RequestPoint): DataPoint {
  return point(REQUEST_POINT, { ...p, latencyBucket: latencyBucket(p.durationMs) });
}

/** "le_<ms>" of the first histogram bucket of /metrics that holds the duration, or "gt_<ms>". */
export function latencyBucket(ms: number): string {
  const le = DURATION_BUCKETS_MS.find((b) => ms <= b);
  return le === undefined ? `gt_${DURATION_BUCKETS_MS[DURATION_BUCKETS_MS.length - 1]}` : `le_${le}`;
}

/**
 * Why a reward message left the queue for the dead-letter queue: `invalid` on the queue or
 * `rejected` by the backend (the consumer copies it), or `retries_exhausted` (its last attempt was
 * retried, so the platform moves it).
 */
export type DeadLetterCause = "invalid" | "rejected" | "retries_exhausted";

export function deadLetterPoint(cause: DeadLetterCause, attempts: number): DataPoint {
  return point(DEAD_LETTER_POINT, { cause, attempts });
}

/** Writes a point; an analytics failure never changes the answer or the message's fate. */
export function record(dataset: PointWriter | undefined, p: DataPoint): void {
  try {
    dataset?.writeDataPoint(p);
  } catch {
    // Best effort by design: the platform drops points under load too.
  }
}

export function recordRequest(dataset: PointWriter | undefined, p: RequestPoint): void {
  record(dataset, dataPoint(p));
}
