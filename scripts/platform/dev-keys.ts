// Development keys for the local platform. Each comes from the environment variable of the same name
// when set; otherwise the documented default below is used and printed at start-up, so any client
// can sign against the local platform. These values are for local use only: the stacks' real keys
// are Pulumi config secrets (docs/deploy.md).

export const DEV_KEY_DEFAULTS = {
  JWT_KEYS: "dev-2026-01:twist-dev-jwt-secret-0000000001",
  VAU_SIGNING_KEYS: "twist-dev-vau-signing-key-0001",
  SERVICE_SIGNING_KEYS: "twist-dev-service-signing-key-0001",
  MERCHANT_SIGNING_KEYS: "twist-dev-merchant-signing-key-0001",
  IP_HASH_SALT: "twist-dev-ip-hash-salt-000001",
} as const;

export type DevKeys = { -readonly [K in keyof typeof DEV_KEY_DEFAULTS]: string };

export function devKeys(env: Record<string, string | undefined> = process.env): DevKeys {
  const keys: DevKeys = { ...DEV_KEY_DEFAULTS };
  for (const name of Object.keys(DEV_KEY_DEFAULTS) as (keyof DevKeys)[]) {
    const value = env[name];
    if (value) keys[name] = value;
  }
  return keys;
}
