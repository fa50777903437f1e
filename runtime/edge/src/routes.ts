// The Worker's route table as data: what index.ts dispatches on, what docs/api/edge.yaml must
// describe (test/openapi.test.ts) and what the fuzz test probes (test/fuzz/edge.test.ts). No runtime
// imports, so Node reads it as it is.
export const MAX_VAU_BODY_BYTES = 8 * 1024;
export const MAX_BATCH_BODY_BYTES = 512 * 1024;

export type Operation = "ingestVau" | "ingestBatch" | "health" | "ready" | "metrics";

export interface Route {
  method: "GET" | "POST";
  path: string;
  /** Handler name in index.ts and operationId in docs/api/edge.yaml. */
  operation: Operation;
  /** Bearer token and signed request required (contract 1 and 3), with the body at most this many bytes. */
  bodyLimitBytes?: number;
}

export const ROUTES: readonly Route[] = [
  { method: "POST", path: "/api/v1/vau", operation: "ingestVau", bodyLimitBytes: MAX_VAU_BODY_BYTES },
  { method: "POST", path: "/api/v1/vau/batch", operation: "ingestBatch", bodyLimitBytes: MAX_BATCH_BODY_BYTES },
  { method: "GET", path: "/health", operation: "health" },
  { method: "GET", path: "/ready", operation: "ready" },
  { method: "GET", path: "/metrics", operation: "metrics" },
];

/** The routes of one path, by method. */
export function routesAt(path: string): Route[] {
  return ROUTES.filter((r) => r.path === path);
}
