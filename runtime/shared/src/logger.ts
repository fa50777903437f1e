// Structured JSON logs (pino). Secrets never reach a log line: any field whose name looks like a
// credential is replaced at any depth, and known header paths are redacted by pino itself.
import pino, { type Logger, type LoggerOptions, type DestinationStream } from "pino";

export const REDACTED = "[redacted]";

/** Field names that are never logged: credentials, cookies, signatures, raw bodies. */
export const SECRET_FIELD = /authorization|cookie|signature|secret|token|password|passphrase|private.?key|api.?key|credential|^body$|^rawBody$|mnemonic|seed/i;

/** Public values whose names look like credentials: a chain transaction's signature is its id. */
export const PUBLIC_FIELD = /^(tx|transaction)Signatures?$/i;

const isSecretField = (key: string) => SECRET_FIELD.test(key) && !PUBLIC_FIELD.test(key);

export function scrub(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  // Serialized here by pino's own err serializer (type, message, stack, cause, own fields), because
  // this formatter runs before pino's serializers; the own fields are then scrubbed like any object.
  if (value instanceof Error) return scrub(pino.stdSerializers.err(value), depth + 1);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = isSecretField(key) ? REDACTED : scrub(v, depth + 1);
  }
  return out;
}

export function createLogger(service: string, options: { level?: string; destination?: DestinationStream } = {}): Logger {
  const config: LoggerOptions = {
    level: options.level ?? process.env.LOG_LEVEL ?? "info",
    base: { service },
    messageKey: "msg",
    timestamp: pino.stdTimeFunctions.isoTime,
    // Errors are already serialized by scrub; pino's serializer would re-read them as type "Object".
    serializers: { err: (value: unknown) => value },
    redact: { paths: ["req.headers.authorization", "req.headers.cookie", 'req.headers["x-signature"]', 'res.headers["set-cookie"]'], censor: REDACTED },
    formatters: {
      level: (label) => ({ level: label }),
      log: (object) => scrub(object) as Record<string, unknown>,
    },
  };
  return options.destination ? pino(config, options.destination) : pino(config);
}

/**
 * Exits once every line logged so far is written. pino's default destination writes
 * asynchronously, so `process.exit` right after a log call can drop the last lines.
 */
export function flushAndExit(logger: Logger, code: number): void {
  const exit = () => process.exit(code);
  // A destination that cannot flush (a wedged pipe) must not keep the process alive; ref'd, so the
  // process ends with `code` and never by an empty event loop while the flush is pending.
  setTimeout(exit, 2000);
  // pino's default destination (sonic-boom) answers flush() at once while a write is still in
  // flight, so exiting then can drop the last line; end() closes it only after that write, then "close".
  const stream = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as { end?: () => void; once?: (event: string, cb: () => void) => void } | undefined;
  try {
    if (typeof stream?.end === "function" && typeof stream.once === "function") {
      stream.once("close", exit);
      stream.end();
    } else {
      logger.flush(exit);
    }
  } catch {
    exit();
  }
}

export type { Logger };
