// Physical names carry the stack so staging and production can share one Cloudflare account and one
// VM without colliding: logical "vau" becomes "twist-vau-staging" (the convention of
// runtime/edge/bindings.ts).
export function physicalName(logical: string, stack: string): string {
  return `twist-${logical}-${stack}`;
}

/** An Analytics Engine dataset's name: a SQL table name, so underscores ("twist_edge_requests_staging"). */
export function analyticsDatasetName(logical: string, stack: string): string {
  return physicalName(logical, stack).replace(/-/g, "_");
}
