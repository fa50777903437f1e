// kill -9 of the influencer API while reward deliveries, stakes, conversions and payouts stream in,
// then a restart. Every operation is retried by its client with the same Idempotency-Key (or the
// same vauId / orderId) until it succeeds; afterwards each one is in the ledger exactly once:
// whatever got a 2xx before the kill is still there, whatever was cut is there once, not twice.
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { createTestDatabase, type TestDatabase } from "../support/postgres";
import { TEST_REDIS_URL, deleteRedisPrefix, testRedisPrefix } from "../support/redis";
import {
  balanceOf,
  Client,
  idempotencyKey,
  influencerWithPool,
  ledgerViolations,
  report,
  rewardMessage,
  scale,
  startLoad,
  startBackend,
  TWIST,
  type Backend,
  type Wallet,
} from "./harness";

describe("fault: kill -9 of the influencer API under load", function () {
  this.timeout(300_000);
  let db: TestDatabase;
  let backend: Backend;
  const prefix = testRedisPrefix("fault-kill");

  before(async () => {
    db = await createTestDatabase("fault_kill");
    backend = await startBackend({ databaseUrl: db.url, redisUrl: TEST_REDIS_URL, redisPrefix: prefix });
  });
  after(async () => {
    await backend?.stop();
    await db?.drop();
    await deleteRedisPrefix(prefix);
  });

  it("every reward, stake, conversion and payout is in the ledger exactly once after the restart", async () => {
    const client = new Client(backend.urls.influencer, backend.keys);
    const kills = scale(2, 4);
    const perKind = scale(30, 150);
    const { wallet: influencer, poolId, linkCode, clickId } = await influencerWithPool(client);

    // Rewards: several wallets, each message a distinct amount, delivered in small batches.
    const rewardWallets = await Promise.all(Array.from({ length: 5 }, () => client.wallet()));
    const rewards = Array.from({ length: perKind }, (_, i) => rewardMessage(rewardWallets[i % 5]!.address, BigInt(i + 1) * 1000n));
    const rewardBatches: (typeof rewards)[] = [];
    for (let i = 0; i < rewards.length; i += 3) rewardBatches.push(rewards.slice(i, i + 3));

    // Stakers and payout requesters are funded before the fault.
    const stakers = await Promise.all(Array.from({ length: 3 }, () => client.wallet()));
    const payers = await Promise.all(Array.from({ length: 3 }, () => client.wallet()));
    const funding = 10_000n * TWIST;
    for (const w of [...stakers, ...payers]) await client.fund(w, funding);
    const stakes = Array.from({ length: perKind }, (_, i) => ({ wallet: stakers[i % 3]!, amount: BigInt(i + 1) * TWIST, key: idempotencyKey() }));
    const payouts = Array.from({ length: Math.ceil(perKind / 3) }, (_, i) => ({ wallet: payers[i % 3]!, amount: BigInt(i + 2) * TWIST, key: idempotencyKey() }));
    const merchantKey = backend.keys.MERCHANT_SIGNING_KEYS.split(",")[0]!;
    const orders = Array.from({ length: perKind }, (_, i) => ({ orderId: `fault-${randomBytes(6).toString("hex")}`, amount: (BigInt(i + 1) * 100n * TWIST).toString() }));

    let firstTry2xx = 0;
    let retried = 0;
    const track = <T>(outcome: { attempts: number; first: { status: number } }) => {
      if (outcome.first.status >= 200 && outcome.first.status < 300) firstTry2xx++;
      if (outcome.attempts > 1) retried++;
      return outcome as T;
    };
    const okDelivery = (a: { status: number; body: { results?: { status: string }[] } }) =>
      a.status === 200 && (a.body.results ?? []).every((r) => r.status === "credited" || r.status === "duplicate");

    const operations: (() => Promise<unknown>)[] = [];
    const longest = Math.max(rewardBatches.length, stakes.length, orders.length, payouts.length);
    for (let i = 0; i < longest; i++) {
      const batch = rewardBatches[i];
      if (batch) operations.push(async () => track(await client.untilDone(() => client.deliverRewards(batch), okDelivery)));
      const stake = stakes[i];
      if (stake) {
        operations.push(async () =>
          track(
            await client.untilDone(() =>
              client.call("POST", `/api/v1/pools/${poolId}/stake`, { headers: { ...stake.wallet.auth, "Idempotency-Key": stake.key }, body: { amount: stake.amount.toString() } }),
            ),
          ),
        );
      }
      const order = orders[i];
      if (order) {
        operations.push(async () =>
          track(
            await client.untilDone(() =>
              client.call("POST", "/api/v1/conversions", { body: { orderId: order.orderId, clickId, amount: order.amount, currency: "TWIST" }, signWith: merchantKey }),
            ),
          ),
        );
      }
      const payout = payouts[i];
      if (payout) {
        operations.push(async () =>
          track(
            await client.untilDone(() =>
              client.call("POST", "/api/v1/payouts", { headers: { ...payout.wallet.auth, "Idempotency-Key": payout.key }, body: { amount: payout.amount.toString() } }),
            ),
          ),
        );
      }
    }

    // The load runs; the API is killed `kills` times, spread over the load by its progress.
    const load = startLoad(8, operations);
    let killed = 0;
    for (let k = 0; k < kills; k++) {
      await load.reached((k + 1) / (kills + 2));
      await backend.kill("influencer");
      killed++;
      await backend.restart("influencer");
    }
    await load.done;

    // Ledger, read back through the API: rewards per wallet, stakes per staker, payouts per payer,
    // conversions on the link; each distinct amount exactly once.
    let lost = 0;
    let doubled = 0;
    const compare = (what: string, actual: bigint, expected: bigint, unit: bigint) => {
      if (actual < expected) lost += Number((expected - actual + unit - 1n) / unit);
      if (actual > expected) doubled += Number((actual - expected + unit - 1n) / unit);
      expect(actual, what).to.equal(expected);
    };
    for (const w of rewardWallets) {
      const expected = rewards.filter((r) => r.walletAddress === w.address).reduce((s, r) => s + BigInt(r.earned), 0n);
      compare(`rewards of ${w.address}`, (await balanceOf(client, w)).total, expected, 1000n);
    }
    for (const w of stakers) {
      const expected = stakes.filter((s) => s.wallet === w).reduce((s, x) => s + x.amount, 0n);
      compare(`stakes of ${w.address}`, (await balanceOf(client, w)).staked, expected, TWIST);
    }
    for (const w of payers)
      await expectPayoutsOnce(
        client,
        w,
        payouts.filter((p) => p.wallet === w),
        (n) => {
          if (n < 0) lost -= n;
          else doubled += n;
        },
      );
    const stats = await client.untilDone(() => client.call("GET", `/api/v1/links/${linkCode}/stats`, { headers: influencer.auth }));
    const conversions = stats.answer.body.totals.conversions as number;
    const commission = BigInt(stats.answer.body.totals.commission.TWIST as string);
    expect(commission, "commission booked once per order").to.equal(orders.reduce((s, o) => s + (BigInt(o.amount) * 1000n) / 10_000n, 0n));
    if (conversions < orders.length) lost += orders.length - conversions;
    if (conversions > orders.length) doubled += conversions - orders.length;
    expect(conversions, "conversions booked").to.equal(orders.length);

    expect(await ledgerViolations(db.url)).to.deep.equal([]);
    report({
      fault: `kill -9 influencer API x${killed} under load`,
      detail: `${operations.length} operations (rewards, stakes, conversions, payouts), ${firstTry2xx} 2xx at the first try, ${retried} retried with the same key; ledger invariants hold`,
      lost,
      doubled,
    });
  });
});

/** Each payout request exists once (its distinct amount), and each ends settled. */
async function expectPayoutsOnce(client: Client, wallet: Wallet, requested: { amount: bigint }[], mismatch: (extra: number) => void): Promise<void> {
  const settled = await client.untilDone(
    () => client.call("GET", "/api/v1/payouts?limit=100", { headers: wallet.auth }),
    (a) => a.status === 200 && (a.body.payouts as { status: string }[]).every((p) => p.status !== "pending"),
  );
  const list = settled.answer.body.payouts as { amount: string; status: string }[];
  if (list.length !== requested.length) mismatch(list.length - requested.length);
  expect(list.map((p) => p.amount).sort(), `payouts of ${wallet.address}`).to.deep.equal(requested.map((p) => p.amount.toString()).sort());
  expect(
    list.every((p) => p.status === "settled"),
    JSON.stringify(list),
  ).to.equal(true);
}
