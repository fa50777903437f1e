// The edge's one logging helper: a JSON line per event. Callers pass ids and counts, never tokens,
// signatures, bodies or secrets (contract 6).
export type LogLevel = "info" | "warn" | "error";

export function log(level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, msg, ...fields });
  if (level === "error") console.error(line);
  else console.log(line);
}
