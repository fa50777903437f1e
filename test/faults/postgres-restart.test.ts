// A throwaway PostgreSQL (initdb into a temp folder, its own port) stopped (immediate: as in a crash)
// and started again while rewards and stakes stream in. While it is down the API answers 503 (never
// 500) and /ready fails; once it is back the API recovers by itself, without a restart, within
// RECOVERY_BOUND_MS; every operation retried by its client is in the ledger exactly once.
import { expect } from "chai";
import { ensureDatabase } from "../../scripts/platform/postgres";
import { TEST_REDIS_URL, deleteRedisPrefix, testRedisPrefix } from "../support/redis";
import { throwawayPostgres, type ThrowawayPostgres } from "../support/throwaway";
import { balanceOf, Client, idempotencyKey, influencerWithPool, ledgerViolations, report, rewardMessage, scale, sleep, startBackend, startLoad, TWIST, type Backend } from "./harness";

/** From PostgreSQL accepting connections again to the API's /ready 200 and a committed write. */
const RECOVERY_BOUND_MS = 15_000;

describe("fault: PostgreSQL stopped and started under load", function () {
  this.timeout(300_000);
  let pg: ThrowawayPostgres;
  let backend: Backend;
  const prefix = testRedisPrefix("fault-pg");

  before(async () => {
    pg = await throwawayPostgres();
    await pg.start();
    await ensureDatabase(pg.url("twist"));
    backend = await startBackend({ databaseUrl: pg.url("twist"), redisUrl: TEST_REDIS_URL, redisPrefix: prefix });
  });
  after(async () => {
    await backend?.stop();
    await pg?.destroy();
    await deleteRedisPrefix(prefix);
  });

  it("503 and /ready failing while it is down, recovery by itself within the bound, nothing accepted lost", async () => {
    const client = new Client(backend.urls.influencer, backend.keys);
    const { poolId } = await influencerWithPool(client);
    const earners = await Promise.all(Array.from({ length: 3 }, () => client.wallet()));
    const staker = await client.wallet();
    await client.fund(staker, 100_000n * TWIST);
    const count = scale(60, 300);
    const rewards = Array.from({ length: count }, (_, i) => rewardMessage(earners[i % 3]!.address, BigInt(i + 1) * 1000n));
    const stakes = Array.from({ length: count }, (_, i) => ({ amount: BigInt(i + 1) * TWIST, key: idempotencyKey() }));

    const statuses = new Map<number, number>();
    const seen = <T extends { status: number }>(a: T) => {
      statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
      return a;
    };
    const okDelivery = (a: { status: number; body: { results?: { status: string }[] } }) =>
      a.status === 200 && (a.body.results ?? []).every((r) => r.status === "credited" || r.status === "duplicate");
    const operations: (() => Promise<unknown>)[] = [];
    for (let i = 0; i < count; i++) {
      const reward = rewards[i]!;
      const stake = stakes[i]!;
      operations.push(() => client.untilDone(async () => seen(await client.deliverRewards([reward])), okDelivery));
      operations.push(() =>
        client.untilDone(async () =>
          seen(await client.call("POST", `/api/v1/pools/${poolId}/stake`, { headers: { ...staker.auth, "Idempotency-Key": stake.key }, body: { amount: stake.amount.toString() } })),
        ),
      );
    }
    const load = startLoad(6, operations);

    await load.reached(1 / 3);
    await pg.stop();
    const ready = await client.call("GET", "/ready");
    const during = await client.call("GET", "/api/v1/me/balance", { headers: staker.auth }); // never cached
    const deliveryDuring = await client.deliverRewards([rewardMessage(earners[0]!.address, 7n)]);
    await sleep(scale(1500, 4000));
    await pg.start();
    const back = Date.now();
    await client.untilDone(
      () => client.call("GET", "/ready"),
      (a) => a.status === 200,
      RECOVERY_BOUND_MS + 30_000,
    );
    const readyMs = Date.now() - back;
    await client.fund(await client.wallet(), 1n);
    const recoveredMs = Date.now() - back;
    await load.done;

    expect(ready.status, "/ready while PostgreSQL is down").to.equal(503);
    expect(ready.body.error.code).to.equal("UNAVAILABLE");
    expect(during.status, "a read while PostgreSQL is down").to.equal(503);
    expect(during.body.error).to.include({ code: "UNAVAILABLE" });
    // A delivery while it is down: refused as a whole (503) or per message (failed), never credited.
    expect(deliveryDuring.status === 503 || deliveryDuring.body.results?.[0]?.status === "failed", JSON.stringify(deliveryDuring)).to.equal(true);
    expect(
      [...statuses.keys()].filter((s) => s >= 500 && s !== 503),
      `statuses seen: ${JSON.stringify([...statuses])}; errors logged: ${backend
        .logs("influencer")
        .filter((l) => /"level":50/.test(l))
        .slice(-3)
        .join("\n")}`,
    ).to.deep.equal([]);
    expect(recoveredMs, "recovery after PostgreSQL is back").to.be.below(RECOVERY_BOUND_MS);

    let lost = 0;
    let doubled = 0;
    for (const w of earners) {
      const expected = rewards.filter((r) => r.walletAddress === w.address).reduce((s, r) => s + BigInt(r.earned), 0n);
      const actual = (await balanceOf(client, w)).total;
      if (actual !== expected) actual < expected ? lost++ : doubled++;
      expect(actual, `rewards of ${w.address}`).to.equal(expected);
    }
    const staked = (await balanceOf(client, staker)).staked;
    if (staked !== stakes.reduce((s, x) => s + x.amount, 0n)) staked < stakes.reduce((s, x) => s + x.amount, 0n) ? lost++ : doubled++;
    expect(staked, "stakes").to.equal(stakes.reduce((s, x) => s + x.amount, 0n));
    expect(await ledgerViolations(pg.url("twist"))).to.deep.equal([]);
    report({
      fault: "PostgreSQL stopped (immediate) and started under load",
      detail: `${operations.length} operations, answers ${[...statuses].map(([s, n]) => `${s}x${n}`).join(" ")}; /ready 503 while down; ready ${readyMs} ms and a committed write ${recoveredMs} ms after it was back (bound ${RECOVERY_BOUND_MS} ms)`,
      lost,
      doubled,
    });
  });
});
