import { expect } from "chai";
import { r2NoPublicAccess as rule } from "../policies/r2-no-public-access";
import { ACCOUNT_ID, TYPES, ZONE_ID, check } from "./harness";

const managed = (change: Record<string, unknown> = {}) => ({ accountId: ACCOUNT_ID, bucketName: "twist-audit-production", enabled: false, ...change });
const custom = (change: Record<string, unknown> = {}) => ({
  accountId: ACCOUNT_ID,
  bucketName: "twist-audit-production",
  domain: "audit.twist.example",
  zoneId: ZONE_ID,
  enabled: false,
  ...change,
});

describe("policy: r2-no-public-access", () => {
  it("passes a private bucket: r2.dev disabled, custom domain disabled", async () => {
    expect(await check(rule, TYPES.r2Bucket, { accountId: ACCOUNT_ID, name: "twist-audit-production" })).to.deep.equal([]);
    expect(await check(rule, TYPES.r2ManagedDomain, managed())).to.deep.equal([]);
    expect(await check(rule, TYPES.r2CustomDomain, custom())).to.deep.equal([]);
  });

  it("fails an enabled r2.dev managed domain", async () => {
    expect(await check(rule, TYPES.r2ManagedDomain, managed({ enabled: true }))).to.deep.equal([
      'R2 bucket "twist-audit-production" is public on its r2.dev URL. Set `enabled: false` on the R2ManagedDomain (or remove it); serve objects through the Worker\'s r2_bucket binding, or allow-list the bucket if it must be public.',
    ]);
  });

  it("fails an enabled public custom domain", async () => {
    const messages = await check(rule, TYPES.r2CustomDomain, custom({ enabled: true }));
    expect(messages).to.have.length(1);
    expect(messages[0]).to.contain('R2 bucket "twist-audit-production" is public on the custom domain audit.twist.example.');
  });

  it("accepts public access for an allow-listed bucket only", async () => {
    const config = { "r2-no-public-access": { allowedPublicBuckets: ["twist-assets-production"] } };
    expect(await check(rule, TYPES.r2CustomDomain, custom({ enabled: true, bucketName: "twist-assets-production" }), { config })).to.deep.equal([]);
    expect(await check(rule, TYPES.r2ManagedDomain, managed({ enabled: true }), { config })).to.have.length(1);
  });
});
