// Reviewed allow-lists. Extend them in the pack config (policy/config/<stack>.json) rather than by
// loosening a policy; every entry is a decision someone can point to.

/**
 * Cloudflare API token permission groups a platform token may hold (ids from
 * GET /user/tokens/permission_groups). What deploying the edge needs; nothing that can mint
 * tokens, edit memberships, billing, DNS-wide settings or firewall.
 */
export const DEFAULT_PERMISSION_GROUPS: Readonly<Record<string, string>> = {
  "c1fde68c7bcc44588cbb6ddbc16d6480": "Account Settings Read",
  "e086da7e2179491d91ee5f35b3ca210a": "Workers Scripts Write",
  "f7f0eda5697f475c90846e879bab8666": "Workers KV Storage Write",
  "bf7481a1826f439697cb59a20b22293e": "Workers R2 Storage Write",
  "366f57075ffc42689627bcf8242a1b6d": "Queues Write",
  "28f4b596e7d643029c524985477ae49a": "Workers Routes Write",
  "c8fed203ed3043cba015a93ad1616f1f": "Zone Read",
};
