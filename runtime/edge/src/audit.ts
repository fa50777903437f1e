// Audit log to R2. Each request adds one entry to an in-isolate buffer and hands a flush to
// waitUntil; the flush waits AUDIT_FLUSH_MS so entries from concurrent requests share one object,
// then writes everything buffered as JSON lines. Only allow-listed headers are recorded: never
// Authorization, cookies, signatures or bodies.

/** The only request headers an audit entry may carry. */
export const AUDIT_HEADER_ALLOW_LIST = [
  "user-agent",
  "content-type",
  "content-length",
  "origin",
  "cf-ipcountry",
  "cf-ray",
  "x-request-id",
] as const;

export interface AuditItem {
  vauId?: string;
  deviceId?: string;
  siteId?: string;
  status: number;
  code?: string;
  earned?: string;
  trustScore?: number;
}

export interface AuditEntry {
  at: string;
  requestId: string;
  method: string;
  path: string;
  status: number;
  code?: string;
  walletAddress?: string;
  durationMs: number;
  headers: Record<string, string>;
  items: AuditItem[];
}

export function allowedHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of AUDIT_HEADER_ALLOW_LIST) {
    const value = headers.get(name);
    if (value !== null) out[name] = value.slice(0, 256);
  }
  return out;
}

const MAX_BATCH = 500;
let buffer: AuditEntry[] = [];

/** Queues an entry and returns the flush promise for waitUntil. */
export function audit(bucket: R2Bucket, entry: AuditEntry, flushMs: number): Promise<void> {
  buffer.push(entry);
  if (buffer.length >= MAX_BATCH) return flush(bucket);
  return new Promise<void>((resolve) => setTimeout(resolve, flushMs)).then(() => flush(bucket));
}

/** Writes whatever is buffered as one object; a flush that finds the buffer empty does nothing. */
async function flush(bucket: R2Bucket): Promise<void> {
  if (buffer.length === 0) return;
  const entries = buffer;
  buffer = [];
  const first = entries[0]!.at;
  // audit/YYYY/MM/DD/HH/<first entry time>-<random>.jsonl: listable by hour, unique per batch.
  const key = `audit/${first.slice(0, 4)}/${first.slice(5, 7)}/${first.slice(8, 10)}/${first.slice(11, 13)}/${first}-${crypto.randomUUID()}.jsonl`;
  try {
    await bucket.put(key, entries.map((e) => JSON.stringify(e)).join("\n") + "\n", {
      httpMetadata: { contentType: "application/x-ndjson" },
      customMetadata: { entries: String(entries.length) },
    });
  } catch (err) {
    console.error(JSON.stringify({ level: "error", msg: "audit write failed", entries: entries.length, error: String(err) }));
  }
}
