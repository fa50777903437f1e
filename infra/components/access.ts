// AccessTokens: the Cloudflare API tokens the platform hands out, each limited to the permissions
// its job needs, scoped to this account (or this zone) only, and expiring. The bootstrap token
// Pulumi itself runs with is created by hand (docs/deploy.md); these are the ones CI uses.
import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import { physicalName } from "../naming";

export interface TokenSpec {
  /** Logical name; the token is called twist-<name>-<stack>. */
  name: string;
  purpose: string;
  /** Permission group names granted on the account. */
  account: string[];
  /** Permission group names granted on the zone. */
  zone: string[];
}

/**
 * What each token may do. Pull requests from forks get no token at all: reviewers read the offline
 * plan (npm run plan) instead of a credentialed preview.
 */
export const TOKENS: readonly TokenSpec[] = [
  {
    name: "ci-deploy",
    purpose: "CI deploy of the edge (Worker script, KV, R2, Queues) and its custom domain",
    account: ["Workers Scripts Write", "Workers KV Storage Write", "Workers R2 Storage Write", "Queues Write"],
    zone: ["Workers Routes Write"],
  },
];

export interface AccessTokensArgs {
  stack: string;
  accountId: string;
  zoneId: string;
  /** ISO-8601 expiry shared by every token (validated to be in the future, within 400 days). */
  expiresOn: string;
  /** When set, the tokens only work from these ranges (request IP condition). */
  allowedCidrs: string[];
  provider: cloudflare.Provider;
}

export class AccessTokens extends pulumi.ComponentResource {
  /** Token values by logical name (Pulumi secrets). */
  readonly values: Record<string, pulumi.Output<string>> = {};
  readonly tokens: Record<string, cloudflare.ApiToken> = {};

  constructor(name: string, args: AccessTokensArgs, opts?: pulumi.ComponentResourceOptions) {
    super("twist:access:AccessTokens", name, {}, opts);
    const invokeOpts = { parent: this, provider: args.provider };
    const groups = new Map<string, pulumi.Output<string>>();
    // Permission group ids are looked up by name so the code says what it grants.
    const groupId = (groupName: string) => {
      let id = groups.get(groupName);
      if (!id) {
        id = cloudflare.getApiTokenPermissionGroupsListOutput({ name: groupName }, invokeOpts).apply((r) => {
          const match = r.results.find((g) => g.name === groupName);
          if (!match) throw new Error(`Cloudflare has no API token permission group named "${groupName}"`);
          return match.id;
        });
        groups.set(groupName, id);
      }
      return { id };
    };
    const accountResource = JSON.stringify({ [`com.cloudflare.api.account.${args.accountId}`]: "*" });
    const zoneResource = JSON.stringify({ [`com.cloudflare.api.account.zone.${args.zoneId}`]: "*" });

    for (const spec of TOKENS) {
      const policies: cloudflare.types.input.ApiTokenPolicy[] = [];
      if (spec.account.length > 0) policies.push({ effect: "allow", resources: accountResource, permissionGroups: spec.account.map(groupId) });
      if (spec.zone.length > 0) policies.push({ effect: "allow", resources: zoneResource, permissionGroups: spec.zone.map(groupId) });
      const token = new cloudflare.ApiToken(
        `token-${spec.name}`,
        {
          name: physicalName(spec.name, args.stack),
          policies,
          expiresOn: args.expiresOn,
          status: "active",
          ...(args.allowedCidrs.length > 0 ? { condition: { requestIp: { ins: args.allowedCidrs } } } : {}),
        },
        { parent: this, provider: args.provider },
      );
      this.tokens[spec.name] = token;
      this.values[spec.name] = pulumi.secret(token.value);
    }
    this.registerOutputs({});
  }
}
