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
  // Object read/write on the buckets a policy names (the backup job's credential); never account-wide.
  "2efd5506f9c8494dacb1fa10a3e7d5b6": "Workers R2 Storage Bucket Item Write",
};

/** Permission groups that act on R2 objects; a policy holding one must name specific buckets only. */
export const R2_BUCKET_ITEM_PERMISSION_GROUPS: Readonly<Record<string, string>> = {
  "2efd5506f9c8494dacb1fa10a3e7d5b6": "Workers R2 Storage Bucket Item Write",
  "6a018a9f2fc74eb6b293b0c548f38b39": "Workers R2 Storage Bucket Item Read",
};
