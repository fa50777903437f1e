// Environment configuration validated at start-up: one error that names every bad variable.
import Joi from "joi";
import { type KeySetError, parseBackupKeySet, parseJwtKeySet, parseSigningKeys } from "./keys";

export class ConfigError extends Error {
  constructor(readonly problems: { name: string; message: string }[]) {
    super(`invalid configuration: ${problems.map((p) => `${p.name}: ${p.message}`).join("; ")}`);
    this.name = "ConfigError";
  }
}

/**
 * Validates `env` against a Joi object schema whose keys are variable names. Unknown variables are
 * ignored; values are converted (numbers, booleans, key sets) per the schema.
 */
export function loadConfig<T>(schema: Joi.ObjectSchema<T>, env: Record<string, string | undefined> = process.env): T {
  const { error, value } = schema.validate(env, { abortEarly: false, allowUnknown: true, stripUnknown: true, convert: true });
  if (error) {
    const seen = new Map<string, string>();
    for (const d of error.details) {
      const name = String(d.path[0] ?? d.context?.key ?? "?");
      if (!seen.has(name)) seen.set(name, d.message.replace(/^"[^"]*" /, ""));
    }
    throw new ConfigError([...seen].map(([name, message]) => ({ name, message })));
  }
  return value as T;
}

/** A Joi type for a key-set variable: the text parsed by `parse`, its KeySetError as the message. */
const keySetType =
  <T>(shape: string, parse: (text: string) => T) =>
  () =>
    Joi.any().custom((value: unknown, helpers) => {
      if (typeof value !== "string") return helpers.message({ custom: `must be ${shape}` });
      try {
        return parse(value);
      } catch (err) {
        return helpers.message({ custom: (err as KeySetError).message });
      }
    });

/** Joi types for the contracts' key sets, parsed into their typed form. */
export const configTypes = {
  jwtKeySet: keySetType("kid:secret[,kid:secret]", parseJwtKeySet),
  signingKeys: keySetType("key[,previous key]", parseSigningKeys),
  /** BACKUP_ENCRYPTION_KEYS: kid:<base64 of 32 bytes>[,previous], current first. */
  backupKeySet: keySetType("kid:<base64 32 bytes>[,kid:<previous>]", parseBackupKeySet),
  port: () => Joi.number().integer().min(1).max(65535),
  url: (schemes: string[] = ["http", "https"]) => Joi.string().uri({ scheme: schemes }),
};

export { Joi };
