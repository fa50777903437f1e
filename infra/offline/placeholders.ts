// Placeholder secrets for offline evaluation (npm run plan, the tests). Each is well-formed for its
// key's validator and carries the marker PLACEHOLDER plus a unique tail, so a test can grep every
// recorded input for it: finding one outside a secret means a secret leaked into plain text.
import type { SecretKeyName } from "../config";

export const PLACEHOLDER_MARKER = "PLACEHOLDER";

export const PLACEHOLDER_SECRETS: Record<SecretKeyName, string> = {
  jwtKeys: "plan-1:PLACEHOLDER-jwtKeys-6f1e2d3c4b5a6978",
  vauSigningKeys: "PLACEHOLDER-vauSigningKeys-0a1b2c3d4e5f6071",
  serviceSigningKeys: "PLACEHOLDER-serviceSigningKeys-8192a3b4c5d6",
  merchantSigningKeys: "PLACEHOLDER-merchantSigningKeys-e7f80912a3b4",
  ipHashSalt: "PLACEHOLDER-ipHashSalt-93ab71c2d4e5",
  postgresPassword: "PLACEHOLDER-postgresPassword-5e6f7a8b9c0d",
  redisPassword: "PLACEHOLDER-redisPassword-1c2d3e4f5a6b",
  vmSshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nPLACEHOLDER-vmSshPrivateKey-8899aabbccddeeff\n-----END OPENSSH PRIVATE KEY-----\n",
  tunnelSecret: Buffer.from("PLACEHOLDER-tunnelSecret-0123456789abcdef").toString("base64"),
  smtpPassword: "PLACEHOLDER-smtpPassword-6a7b8c9d0e1f",
  alertWebhookUrl: "https://hooks.example/PLACEHOLDER-alertWebhookUrl-5a4b3c2d1e0f",
  grafanaAdminPassword: "PLACEHOLDER-grafanaAdminPassword-7c6d5e4f3a2b",
  analyticsApiToken: "PLACEHOLDER-analyticsApiToken-2b3c4d5e6f7a8b9c",
  // A well-formed key (32 bytes) whose kid and bytes both carry the marker.
  backupEncryptionKeys: `PLACEHOLDER-backup:${Buffer.from("PLACEHOLDER-backupEncryptionKeys").toString("base64")}`,
  // External datastores (twist:database / twist:redis external): TLS required, marker in the password and the host.
  databaseUrl: "postgres://twist:PLACEHOLDER-databaseUrl-4a5b6c7d8e9f@PLACEHOLDER-db.example.net:5432/twist?sslmode=require",
  redisUrl: "rediss://default:PLACEHOLDER-redisUrl-9f8e7d6c5b4a@PLACEHOLDER-redis.example.net:6379",
  solanaPayerSecretKey: "PLACEHOLDER-solanaPayerSecretKey-0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778",
};

/** Values the mocked providers "mint" (API token values): secrets too. */
export const PLACEHOLDER_MINTED = {
  apiTokenValue: (name: string) => `PLACEHOLDER-minted-apiToken-${name}`,
};

/** Every placeholder string a leak scan should look for. */
export function placeholderNeedles(): string[] {
  return [...Object.values(PLACEHOLDER_SECRETS), PLACEHOLDER_MINTED.apiTokenValue("")];
}
