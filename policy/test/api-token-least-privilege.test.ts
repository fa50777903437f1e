import { expect } from "chai";
import { apiTokenLeastPrivilege as rule } from "../policies/api-token-least-privilege";
import { ACCOUNT_ID, TYPES, ZONE_ID, baselineToken, check } from "./harness";

type TokenPolicy = { effect: string; permissionGroups: { id: string }[]; resources: string };

function tokenWithPolicy(change: Partial<TokenPolicy>) {
  const token = baselineToken();
  const [first] = token.policies as TokenPolicy[];
  token.policies = [{ ...first!, ...change }];
  return token;
}

describe("policy: api-token-least-privilege", () => {
  it("passes the baseline token on production and staging, as ApiToken and AccountToken", async () => {
    expect(await check(rule, TYPES.apiToken, baselineToken())).to.deep.equal([]);
    expect(await check(rule, TYPES.accountToken, { ...baselineToken(), accountId: ACCOUNT_ID })).to.deep.equal([]);
    expect(await check(rule, TYPES.apiToken, baselineToken(), { stack: "staging" })).to.deep.equal([]);
  });

  it("accepts a zone-scoped policy and a nested account/zone scope", async () => {
    const zone = tokenWithPolicy({ resources: JSON.stringify({ [`com.cloudflare.api.account.zone.${ZONE_ID}`]: "*" }), permissionGroups: [{ id: "28f4b596e7d643029c524985477ae49a" }] });
    expect(await check(rule, TYPES.apiToken, zone)).to.deep.equal([]);
    const nested = tokenWithPolicy({ resources: JSON.stringify({ [`com.cloudflare.api.account.${ACCOUNT_ID}`]: { [`com.cloudflare.api.account.zone.${ZONE_ID}`]: "*" } }) });
    expect(await check(rule, TYPES.apiToken, nested)).to.deep.equal([]);
  });

  describe("R2 object access (the backup job's credential)", () => {
    const BUCKET_WRITE = "2efd5506f9c8494dacb1fa10a3e7d5b6";
    const bucketKey = (name: string) => `com.cloudflare.edge.r2.bucket.${ACCOUNT_ID}_default_${name}`;
    const bucketToken = (resources: Record<string, unknown>) => tokenWithPolicy({ permissionGroups: [{ id: BUCKET_WRITE }], resources: JSON.stringify(resources) });

    it("accepts object write scoped to one named bucket", async () => {
      expect(await check(rule, TYPES.apiToken, bucketToken({ [bucketKey("twist-backups-production")]: "*" }))).to.deep.equal([]);
    });

    it("fails object write on the whole account", async () => {
      expect(await check(rule, TYPES.apiToken, bucketToken({ [`com.cloudflare.api.account.${ACCOUNT_ID}`]: "*" }))).to.deep.equal([
        `API token "twist-ci-production" policy 0 grants R2 object access (Workers R2 Storage Bucket Item Write) on "com.cloudflare.api.account.${ACCOUNT_ID}", which is not one bucket. Scope it to com.cloudflare.edge.r2.bucket.<accountId>_default_<bucket>, one key per bucket.`,
      ]);
    });

    it("fails a bucket wildcard", async () => {
      const messages = await check(rule, TYPES.apiToken, bucketToken({ [`com.cloudflare.edge.r2.bucket.${ACCOUNT_ID}_default_*`]: "*" }));
      expect(messages).to.have.length(1);
      expect(messages[0]).to.contain("which is not one bucket");
    });

    it("fails a bucket credential that reaches more than one bucket, in one policy or across two", async () => {
      const expected = `API token "twist-ci-production" grants R2 object access on 2 buckets (${bucketKey("twist-backups-production")}, ${bucketKey("twist-audit-production")}). Scope a bucket credential to one bucket: one token per bucket.`;
      const both = bucketToken({ [bucketKey("twist-backups-production")]: "*", [bucketKey("twist-audit-production")]: "*" });
      expect(await check(rule, TYPES.apiToken, both)).to.deep.equal([expected]);
      const split = bucketToken({ [bucketKey("twist-backups-production")]: "*" });
      split.policies = [
        ...(split.policies as TokenPolicy[]),
        { effect: "allow", permissionGroups: [{ id: BUCKET_WRITE }], resources: JSON.stringify({ [bucketKey("twist-audit-production")]: "*" }) },
      ];
      expect(await check(rule, TYPES.apiToken, split)).to.deep.equal([expected]);
    });

    it("fails a bucket credential that also holds write on other resources, in the same policy or another", async () => {
      const scriptsWrite = "e086da7e2179491d91ee5f35b3ca210a";
      const r2AccountWrite = "bf7481a1826f439697cb59a20b22293e";
      // Both groups are allow-listed for platform tokens: only the bucket-credential rule stops them here.
      const riding = tokenWithPolicy({ permissionGroups: [{ id: BUCKET_WRITE }, { id: r2AccountWrite }], resources: JSON.stringify({ [bucketKey("twist-backups-production")]: "*" }) });
      expect(await check(rule, TYPES.apiToken, riding)).to.deep.equal([
        'API token "twist-ci-production" is an R2 bucket credential but policy 0 also holds Workers R2 Storage Write. Give it R2 object permissions only and put anything else in a token of its own.',
      ]);
      const second = bucketToken({ [bucketKey("twist-backups-production")]: "*" });
      second.policies = [
        ...(second.policies as TokenPolicy[]),
        { effect: "allow", permissionGroups: [{ id: scriptsWrite }], resources: JSON.stringify({ [`com.cloudflare.api.account.${ACCOUNT_ID}`]: "*" }) },
      ];
      expect(await check(rule, TYPES.apiToken, second)).to.deep.equal([
        'API token "twist-ci-production" is an R2 bucket credential but policy 1 also holds Workers Scripts Write. Give it R2 object permissions only and put anything else in a token of its own.',
      ]);
    });

    it("lets a deny policy narrow a bucket credential without counting it", async () => {
      const token = bucketToken({ [bucketKey("twist-backups-production")]: "*" });
      token.policies = [
        ...(token.policies as TokenPolicy[]),
        { effect: "deny", permissionGroups: [{ id: BUCKET_WRITE }], resources: JSON.stringify({ [bucketKey("twist-audit-production")]: "*" }) },
      ];
      expect(await check(rule, TYPES.apiToken, token)).to.deep.equal([]);
    });

    it("a bucket resource key does not scope account-level permission groups", async () => {
      const messages = await check(rule, TYPES.apiToken, tokenWithPolicy({ resources: JSON.stringify({ [bucketKey("twist-backups-production")]: "*" }) }));
      expect(messages).to.have.length(1);
      expect(messages[0]).to.contain("which is not one specific account or zone");
    });
  });

  it("fails a wildcard account resource", async () => {
    const messages = await check(rule, TYPES.apiToken, tokenWithPolicy({ resources: JSON.stringify({ "com.cloudflare.api.account.*": "*" }) }));
    expect(messages).to.deep.equal([
      'API token "twist-ci-production" policy 0 grants on "com.cloudflare.api.account.*", which is not one specific account or zone. Replace the wildcard with com.cloudflare.api.account.<accountId> or com.cloudflare.api.account.zone.<zoneId>.',
    ]);
  });

  it("fails a wildcard zone nested under a specific account", async () => {
    const resources = JSON.stringify({ [`com.cloudflare.api.account.${ACCOUNT_ID}`]: { "com.cloudflare.api.account.zone.*": "*" } });
    const messages = await check(rule, TYPES.apiToken, tokenWithPolicy({ resources }));
    expect(messages).to.have.length(1);
    expect(messages[0]).to.contain('grants on "com.cloudflare.api.account.zone.*"');
  });

  it("does not hold a deny policy to the scope rules (it only removes rights)", async () => {
    const token = baselineToken();
    token.policies = [
      ...(token.policies as TokenPolicy[]),
      { effect: "deny", permissionGroups: [{ id: "deadbeefdeadbeefdeadbeefdeadbeef" }], resources: JSON.stringify({ "com.cloudflare.api.account.zone.*": "*" }) },
    ];
    expect(await check(rule, TYPES.apiToken, token)).to.deep.equal([]);
  });

  it("fails resources that are not JSON or name nothing", async () => {
    expect((await check(rule, TYPES.apiToken, tokenWithPolicy({ resources: "account:*" })))[0]).to.contain("has resources that are not JSON");
    expect((await check(rule, TYPES.apiToken, tokenWithPolicy({ resources: "{}" })))[0]).to.contain("names no resources");
  });

  it("fails a token without policies", async () => {
    expect(await check(rule, TYPES.apiToken, { ...baselineToken(), policies: [] })).to.deep.equal([
      'API token "twist-ci-production" has no policies. Give it explicit allow policies scoped to one account or zone.',
    ]);
  });

  it("fails a permission group outside the allow-list, and accepts it once allow-listed", async () => {
    const apiTokensWrite = "686d18d5ac6c441c867cbf6771e58a0a";
    const token = tokenWithPolicy({ permissionGroups: [{ id: "e086da7e2179491d91ee5f35b3ca210a" }, { id: apiTokensWrite }] });
    const messages = await check(rule, TYPES.apiToken, token);
    expect(messages).to.deep.equal([
      `API token "twist-ci-production" policy 0 holds permission group ${apiTokensWrite}, which is not on the allow-list. Remove it, or add it to allowedPermissionGroupIds in the pack config after review.`,
    ]);
    const config = { "api-token-least-privilege": { allowedPermissionGroupIds: ["e086da7e2179491d91ee5f35b3ca210a", apiTokensWrite] } };
    expect(await check(rule, TYPES.apiToken, token, { config })).to.deep.equal([]);
  });

  it("fails a token without expiry, with an unparseable, past or too distant expiry", async () => {
    const { expiresOn: _unused, ...noExpiry } = baselineToken();
    expect((await check(rule, TYPES.apiToken, noExpiry))[0]).to.match(/never expires\. Set `expiresOn`/);
    expect((await check(rule, TYPES.apiToken, { ...baselineToken(), expiresOn: "next year" }))[0]).to.contain("is not a date");
    expect((await check(rule, TYPES.apiToken, { ...baselineToken(), expiresOn: "2020-01-01T00:00:00Z" }))[0]).to.contain("expired on 2020-01-01T00:00:00Z");
    const far = new Date(Date.now() + 3 * 365 * 86_400_000).toISOString();
    expect((await check(rule, TYPES.apiToken, { ...baselineToken(), expiresOn: far }))[0]).to.contain("more than 400 days ahead");
  });

  it("requires an IP condition in production only", async () => {
    const { condition: _unused, ...open } = baselineToken();
    expect(await check(rule, TYPES.apiToken, open)).to.deep.equal([
      'API token "twist-ci-production" can be used from any address. In production set `condition.requestIp.ins` to the CIDRs of the CI runners or hosts that use it.',
    ]);
    expect(await check(rule, TYPES.apiToken, open, { stack: "staging" })).to.deep.equal([]);
  });

  it("fails an IP condition that allows every address", async () => {
    const token = { ...baselineToken(), condition: { requestIp: { ins: ["0.0.0.0/0", "::/0"] } } };
    expect((await check(rule, TYPES.apiToken, token))[0]).to.contain("allows 0.0.0.0/0, ::/0, which is every address");
  });

  it("reports every problem of one token together", async () => {
    const token = {
      name: "everything",
      policies: [{ effect: "allow", permissionGroups: [{ id: "686d18d5ac6c441c867cbf6771e58a0a" }], resources: JSON.stringify({ "com.cloudflare.api.account.*": "*" }) }],
    };
    expect(await check(rule, TYPES.apiToken, token)).to.have.length(4); // wildcard, group, expiry, IP
  });
});
