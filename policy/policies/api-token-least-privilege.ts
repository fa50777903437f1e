// Cloudflare API tokens created by the program are least-privilege: scoped to named accounts or
// zones, holding only reviewed permission groups, expiring, and in production usable only from
// known addresses. A token with R2 object access (the backup job's S3 credential) is a bucket
// credential: object access on exactly one named bucket and nothing else.
import * as cloudflare from "@pulumi/cloudflare";
import { type ReportViolation, type ResourceValidationArgs, type ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { DEFAULT_PERMISSION_GROUPS, R2_BUCKET_ITEM_PERMISSION_GROUPS } from "../lib/allowlists";
import { type Rule, configWithDefaults } from "../lib/rule";
import { stackConfigProperty, stackOf, tierOf } from "../lib/stack";

interface Config {
  allowedPermissionGroupIds: string[];
  /** Longest lifetime a token may be created with, in days from now. */
  maxLifetimeDays: number;
}
const defaults: Config = { allowedPermissionGroupIds: Object.keys(DEFAULT_PERMISSION_GROUPS), maxLifetimeDays: 400 };

interface TokenInputs {
  name: string;
  policies: { effect: string; permissionGroups: { id: string }[]; resources: string }[];
  expiresOn?: string;
  condition?: { requestIp?: { ins?: string[]; notIns?: string[] } };
}

/** A resource key names one account, zone or user: com.cloudflare.api.account[.zone].<id>. */
const SPECIFIC_RESOURCE = /^com\.cloudflare\.api\.(?:account|account\.zone|user)\.[A-Za-z0-9_-]+$/;
/** One R2 bucket: com.cloudflare.edge.r2.bucket.<accountId>_<jurisdiction>_<bucket name>. */
const BUCKET_RESOURCE = /^com\.cloudflare\.edge\.r2\.bucket\.[0-9a-f]{32}_(?:default|eu|fedramp)_[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const OPEN_RANGES = new Set(["0.0.0.0/0", "::/0"]);

/** Every resource key of a policy's `resources` JSON, nested ones included. */
function resourceKeys(resources: unknown): string[] {
  if (resources === null || typeof resources !== "object") return [];
  return Object.entries(resources).flatMap(([key, value]) => [key, ...resourceKeys(value)]);
}

/** Resource keys of a policy, or undefined when its `resources` is not JSON (reported by the scope check). */
function keysOf(policy: TokenInputs["policies"][number]): string[] | undefined {
  try {
    return resourceKeys(JSON.parse(policy.resources));
  } catch {
    return undefined;
  }
}

/**
 * A token holding R2 object permissions is an S3 credential: R2 accepts it for every bucket it
 * names, so it may name one bucket and hold nothing besides object access (no second job, no
 * account-level write riding along).
 */
function checkBucketCredential(token: TokenInputs, label: string, report: ReportViolation): void {
  const allows = (token.policies ?? []).map((policy, index) => ({ policy, index })).filter(({ policy }) => policy.effect === "allow");
  const holdsObjectAccess = ({ policy }: (typeof allows)[number]) => (policy.permissionGroups ?? []).some((g) => g.id in R2_BUCKET_ITEM_PERMISSION_GROUPS);
  if (!allows.some(holdsObjectAccess)) return;
  for (const { policy, index } of allows) {
    const others = (policy.permissionGroups ?? []).filter((g) => !(g.id in R2_BUCKET_ITEM_PERMISSION_GROUPS));
    if (others.length > 0) {
      report(
        `${label} is an R2 bucket credential but policy ${index} also holds ${others.map((g) => DEFAULT_PERMISSION_GROUPS[g.id] ?? g.id).join(", ")}. Give it R2 object permissions only and put anything else in a token of its own.`,
      );
    }
  }
  const buckets = [...new Set(allows.filter(holdsObjectAccess).flatMap(({ policy }) => (keysOf(policy) ?? []).filter((k) => BUCKET_RESOURCE.test(k))))];
  if (buckets.length > 1) {
    report(`${label} grants R2 object access on ${buckets.length} buckets (${buckets.join(", ")}). Scope a bucket credential to one bucket: one token per bucket.`);
  }
}

function checkToken(token: TokenInputs, args: ResourceValidationArgs, report: ReportViolation): void {
  const config = configWithDefaults(args, defaults);
  const label = `API token "${token.name}"`;
  if (!token.policies || token.policies.length === 0) report(`${label} has no policies. Give it explicit allow policies scoped to one account or zone.`);
  for (const [index, policy] of (token.policies ?? []).entries()) {
    if (policy.effect !== "allow") continue; // a deny policy only takes rights away
    let parsed: unknown;
    try {
      parsed = JSON.parse(policy.resources);
    } catch {
      report(`${label} policy ${index} has resources that are not JSON. Set \`resources\` to JSON.stringify({"com.cloudflare.api.account.<accountId>": "*"}).`);
      continue;
    }
    const keys = resourceKeys(parsed);
    if (keys.length === 0) report(`${label} policy ${index} names no resources. Scope it to the account or zone it needs: {"com.cloudflare.api.account.<accountId>": "*"}.`);
    const bucketItems = (policy.permissionGroups ?? []).filter((g) => g.id in R2_BUCKET_ITEM_PERMISSION_GROUPS);
    for (const key of keys) {
      if (bucketItems.length > 0) {
        if (!BUCKET_RESOURCE.test(key)) {
          report(
            `${label} policy ${index} grants R2 object access (${bucketItems.map((g) => R2_BUCKET_ITEM_PERMISSION_GROUPS[g.id]).join(", ")}) on "${key}", which is not one bucket. Scope it to com.cloudflare.edge.r2.bucket.<accountId>_default_<bucket>, one key per bucket.`,
          );
        }
      } else if (key.includes("*") || !SPECIFIC_RESOURCE.test(key)) {
        report(
          `${label} policy ${index} grants on "${key}", which is not one specific account or zone. Replace the wildcard with com.cloudflare.api.account.<accountId> or com.cloudflare.api.account.zone.<zoneId>.`,
        );
      }
    }
    for (const group of policy.permissionGroups ?? []) {
      if (!config.allowedPermissionGroupIds.includes(group.id)) {
        report(
          `${label} policy ${index} holds permission group ${group.id}, which is not on the allow-list. Remove it, or add it to allowedPermissionGroupIds in the pack config after review.`,
        );
      }
    }
  }
  checkBucketCredential(token, label, report);
  const expires = token.expiresOn === undefined ? NaN : Date.parse(token.expiresOn);
  if (token.expiresOn === undefined || token.expiresOn === "") {
    report(`${label} never expires. Set \`expiresOn\` (RFC 3339, at most ${config.maxLifetimeDays} days ahead) and rotate it before then.`);
  } else if (Number.isNaN(expires)) {
    report(`${label} has an expiresOn that is not a date ("${token.expiresOn}"). Use RFC 3339, e.g. 2026-06-30T00:00:00Z.`);
  } else if (expires <= Date.now()) {
    report(`${label} expired on ${token.expiresOn}. Set a future \`expiresOn\` and rotate the token.`);
  } else if (expires - Date.now() > config.maxLifetimeDays * 86_400_000) {
    report(`${label} expires on ${token.expiresOn}, more than ${config.maxLifetimeDays} days ahead. Shorten \`expiresOn\` and rotate the token on a schedule.`);
  }
  if (tierOf(stackOf(args, args.urn)) === "production") {
    const ins = token.condition?.requestIp?.ins ?? [];
    if (ins.length === 0) {
      report(`${label} can be used from any address. In production set \`condition.requestIp.ins\` to the CIDRs of the CI runners or hosts that use it.`);
    } else if (ins.some((cidr) => OPEN_RANGES.has(cidr))) {
      report(`${label} allows ${ins.filter((c) => OPEN_RANGES.has(c)).join(", ")}, which is every address. Restrict \`condition.requestIp.ins\` to specific CIDRs.`);
    }
  }
}

export const apiTokenLeastPrivilege: Rule<ResourceValidationPolicy> = {
  staging: "mandatory",
  stagingReason: "a staging token reaches the same Cloudflare account; the IP condition is required in production only",
  policy: {
    name: "api-token-least-privilege",
    description:
      "Cloudflare API and account tokens must be scoped to specific accounts or zones (no wildcard resources; R2 object permissions on one named bucket and nothing else), hold only allow-listed permission groups, expire, and in production carry an IP condition.",
    enforcementLevel: "mandatory",
    configSchema: {
      properties: {
        ...stackConfigProperty,
        allowedPermissionGroupIds: { type: "array", items: { type: "string" } },
        maxLifetimeDays: { type: "integer", minimum: 1, default: defaults.maxLifetimeDays },
      },
    },
    validateResource: [
      validateResourceOfType(cloudflare.ApiToken, (token, args, report) => checkToken(token, args, report)),
      validateResourceOfType(cloudflare.AccountToken, (token, args, report) => checkToken(token, args, report)),
    ],
  },
};
