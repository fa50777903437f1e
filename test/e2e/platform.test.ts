import { expect } from "chai";
import { startPlatform, type Platform } from "../../scripts/platform";
import { ensureDatabase } from "../../scripts/platform/postgres";
import { ensureRedis } from "../../scripts/platform/redis";
import { runSmoke, type SmokeStep } from "../../scripts/smoke/flow";
import { freePort } from "../support/ports";
import { createTestDatabase, type TestDatabase } from "../support/postgres";
import { TEST_REDIS_URL, deleteRedisPrefix, testRedisPrefix, DEAD_REDIS_URL } from "../support/redis";

// npm test starts the platform exactly as npm start does (same launcher, same bundles, migrations,
// edge in workerd, settlement worker) on free ports with its own database and Redis prefix, then runs
// the smoke test's critical path against it.
describe("end to end: the local platform and the smoke test", function () {
  this.timeout(300_000); // start-up on a loaded machine takes minutes; this only stops a hung run
  let db: TestDatabase;
  let platform: Platform;
  const prefix = testRedisPrefix("e2e");

  before(async () => {
    db = await createTestDatabase("e2e");
    const [edge, auth, influencer] = [await freePort(), await freePort(), await freePort()];
    platform = await startPlatform({
      databaseUrl: db.url,
      redisUrl: TEST_REDIS_URL,
      redisPrefix: prefix,
      ports: { edge, auth, influencer },
      merchantDomains: ["shop.example"],
      edgeConsumerBatchTimeoutSeconds: 1,
      env: { LOG_LEVEL: "warn" },
    });
  });

  after(async () => {
    await platform?.stop();
    await db?.drop();
    await deleteRedisPrefix(prefix);
  });

  it("every service answers /health and /ready", async () => {
    for (const base of [platform.urls.auth, platform.urls.influencer]) {
      expect((await fetch(`${base}/ready`)).status, base).to.equal(200);
    }
    const edge = await fetch(`${platform.urls.edge}/health`);
    expect(edge.status).to.equal(200);
  });

  it("runs the critical path: sign-in, pool, VAU reward credited, stake, link, click, conversion, commission split, claim, payout settled", async () => {
    const steps: SmokeStep[] = await runSmoke(platform.urls, {
      vauSigningKey: platform.keys.VAU_SIGNING_KEYS,
      merchantSigningKey: platform.keys.MERCHANT_SIGNING_KEYS,
    });
    expect(steps.map((s) => s.name)).to.deep.equal([
      "sign in (nonce, sign, verify)",
      "register influencer",
      "create staking pool",
      "submit signed VAUs through the edge",
      "reward credited in the backend ledger",
      "stake",
      "create referral link",
      "follow the link (302, click counted)",
      "merchant posts a signed conversion",
      "commission and stakers' share visible",
      "claim staking rewards",
      "request a payout and see it settled",
    ]);
  });

  it("enforces signatures locally: an unsigned VAU is refused by the edge", async () => {
    const res = await fetch(`${platform.urls.edge}/api/v1/vau`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: "Bearer x.y.z" },
      body: JSON.stringify({ deviceId: "d", siteId: "s", timestamp: Date.now(), activeMs: 1000 }),
    });
    expect(res.status).to.equal(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).to.equal("UNAUTHORIZED");
  });
});

describe("npm start's dependency checks", () => {
  it("says exactly what to start when PostgreSQL is not reachable", async () => {
    let message = "";
    await ensureDatabase("postgres://postgres@127.0.0.1:1/twist").catch((err: Error) => (message = err.message));
    expect(message)
      .to.match(/PostgreSQL is not reachable at 127\.0\.0\.1:1/)
      .and.to.match(/pg_ctlcluster/)
      .and.to.match(/DATABASE_URL/);
  });

  it("says exactly what to start when Redis is not reachable", async () => {
    let message = "";
    await ensureRedis(DEAD_REDIS_URL).catch((err: Error) => (message = err.message));
    expect(message)
      .to.match(/Redis is not reachable/)
      .and.to.match(/redis-server/)
      .and.to.match(/REDIS_URL/);
  });
});
