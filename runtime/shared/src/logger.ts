// Structured JSON logs (pino). Secrets never reach a log line: any field whose name looks like a
// credential is replaced at any depth, and known header paths are redacted by pino itself.
import pino, { type Logger, type LoggerOptions, type DestinationStream } from "pino";

export const REDACTED = "[redacted]";

/** Field names that are never logged: credentials, cookies, signatures, raw bodies. */
export const SECRET_FIELD = /authorization|cookie|signature|secret|token|password|passphrase|private.?key|api.?key|credential|^body$|^rawBody$|mnemonic|seed/i;

export function scrub(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  if (value instanceof Error) return { type: value.name, message: value.message };
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = SECRET_FIELD.test(key) ? REDACTED : scrub(v, depth + 1);
  }
  return out;
}

export function createLogger(service: string, options: { level?: string; destination?: DestinationStream } = {}): Logger {
  const config: LoggerOptions = {
    level: options.level ?? process.env.LOG_LEVEL ?? "info",
    base: { service },
    messageKey: "msg",
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ["req.headers.authorization", "req.headers.cookie", 'req.headers["x-signature"]', 'res.headers["set-cookie"]'], censor: REDACTED },
    formatters: {
      level: (label) => ({ level: label }),
      log: (object) => scrub(object) as Record<string, unknown>,
    },
  };
  return options.destination ? pino(config, options.destination) : pino(config);
}

export type { Logger };
