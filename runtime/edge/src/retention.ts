// How long each piece of the edge's Durable Object state lives; the alarms delete it after that.
// Plain constants, so Node (tests, docs checks) reads them without the Workers runtime.

/** Rate-limit windows: a request is allowed while fewer than the limit were allowed in this span. */
export const RATE_WINDOW_MS = 60_000;
/** A device history unused for this long is deleted; the device then starts again from trust 0.1. */
export const HISTORY_RETENTION_MS = 30 * 24 * 3_600_000;
/** Hourly totals older than this are pruned. */
export const AGGREGATOR_RETENTION_HOURS = 48;
/** The one HourlyAggregator object. */
export const AGGREGATOR_NAME = "global";
