// One Workers Analytics Engine data point per request (binding ANALYTICS, bindings.ts), so rate,
// error ratio and latency per route are counted across every isolate; /metrics counts one isolate.
// Only the route template, method, status, outcome and latency: never a token, a header, a body, a
// wallet or an IP address. docs/edge.md has the SQL API queries that read it.
import { DURATION_BUCKETS_MS } from "./metrics";

export interface RequestPoint {
  /** The matched route's path, or "unmatched"; never the raw path (it may carry anything). */
  route: string;
  method: string;
  status: number;
  /** Error code of the envelope (lowercase), or "ok". */
  outcome: string;
  durationMs: number;
}

/** blob1 route, blob2 method, blob3 outcome, blob4 latency bucket; double1 status, double2 ms; index route. */
export function dataPoint(p: RequestPoint): AnalyticsEngineDataPoint {
  return {
    indexes: [p.route],
    blobs: [p.route, p.method, p.outcome, latencyBucket(p.durationMs)],
    doubles: [p.status, p.durationMs],
  };
}

/** "le_<ms>" of the first histogram bucket of /metrics that holds the duration, or "gt_<ms>". */
export function latencyBucket(ms: number): string {
  const le = DURATION_BUCKETS_MS.find((b) => ms <= b);
  return le === undefined ? `gt_${DURATION_BUCKETS_MS[DURATION_BUCKETS_MS.length - 1]}` : `le_${le}`;
}

/** Writes the point; an analytics failure never changes the answer. */
export function recordRequest(dataset: AnalyticsEngineDataset | undefined, point: RequestPoint): void {
  try {
    dataset?.writeDataPoint(dataPoint(point));
  } catch {
    // Best effort by design: the platform drops points under load too.
  }
}
