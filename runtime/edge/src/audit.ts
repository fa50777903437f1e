// Audit log to R2, batched in the isolate (batcher.ts): entries of requests that arrive within
// BATCH_FLUSH_MS share one JSON-lines object. Only allow-listed headers are recorded: never
// Authorization, cookies, signatures or bodies.
import { Batcher } from "./batcher";

/** The only request headers an audit entry may carry. */
export const AUDIT_HEADER_ALLOW_LIST = ["user-agent", "content-type", "content-length", "origin", "cf-ipcountry", "cf-ray", "x-request-id"] as const;

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

const batcher = new Batcher<AuditEntry>("audit", 500);

/** Queues an entry; the request that arms the batch's flush hands it to its waitUntil. */
export function audit(bucket: R2Bucket, entry: AuditEntry, flushMs: number, waitUntil: (p: Promise<unknown>) => void): void {
  batcher.add([entry], flushMs, (entries) => writeObject(bucket, entries), waitUntil);
}

/** One JSON-lines object per batch at audit/YYYY/MM/DD/HH/<first entry time>-<uuid>.jsonl. */
function writeObject(bucket: R2Bucket, entries: AuditEntry[]): Promise<unknown> {
  const first = entries[0]!.at;
  const key = `audit/${first.slice(0, 4)}/${first.slice(5, 7)}/${first.slice(8, 10)}/${first.slice(11, 13)}/${first}-${crypto.randomUUID()}.jsonl`;
  return bucket.put(key, `${entries.map((e) => JSON.stringify(e)).join("\n")}\n`, {
    httpMetadata: { contentType: "application/x-ndjson" },
    customMetadata: { entries: String(entries.length) },
  });
}
