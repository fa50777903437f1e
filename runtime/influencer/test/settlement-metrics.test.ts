import { expect } from "chai";
import request from "supertest";
import { createLogger } from "@twist/shared/logger";
import { Ledger } from "../src/ledger";
import { createPayoutService } from "../src/ledger/wiring";
import { createSettlementAdapter, settlementQueueOptions, startSettlementWorker, type RunningSettlementWorker } from "../src/settlement";
import { settlementMetricsApp } from "../src/settlement/metrics";
import { DEAD_REDIS_URL } from "../../../test/support/redis";
import { expectEnvelope, newUser, startHarness, type Harness, fund, moneyPost } from "./harness";

const logger = createLogger("settlement-metrics-test", { level: "silent" });
const sample = (text: string, series: string) => {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

// The settlement worker's /metrics: what SettlementBacklog, SettlementStuck and ServiceNotReady read.
describe("settlement worker metrics", () => {
  let h: Harness;
  const started: RunningSettlementWorker[] = [];
  const worker = (redisUrl?: string) => {
    const seq = h.service.context.sequelize;
    const options = { ...settlementQueueOptions(h.config), ...(redisUrl ? { redisUrl } : {}) };
    const running = startSettlementWorker(options, createPayoutService(h.config, seq, new Ledger(seq)), createSettlementAdapter(h.config), logger);
    started.push(running);
    return { running, app: settlementMetricsApp(seq, running, logger) };
  };
  before(async () => {
    h = await startHarness("settlement_metrics", { PAYOUT_MIN_AMOUNT: "1000", PAYOUT_FEE_FLAT: "10", PAYOUT_FEE_BPS: "100" });
  });
  after(async () => {
    for (const r of started) await r.close();
    await h.close();
  });

  it("reports the backlog, pending payouts and outcomes, and is ready", async () => {
    const { app } = worker();
    const before = await request(app).get("/metrics");
    expect(before.status).to.equal(200);
    expect(sample(before.text, 'settlement_pending_payouts{service="settlement"}')).to.equal(0);
    expect(sample(before.text, 'settlement_oldest_pending_payout_age_seconds{service="settlement"}')).to.equal(0);
    for (const state of ["waiting", "active", "delayed"]) expect(sample(before.text, `settlement_queue_jobs{state="${state}",service="settlement"}`), state).to.be.a("number");
    expect(sample(before.text, 'service_dependency_up{dependency="postgres",service="settlement"}')).to.equal(1);
    expect(sample(before.text, 'service_dependency_up{dependency="redis",service="settlement"}')).to.equal(1);

    const u = await newUser();
    await fund(h, u.wallet, 5000n);
    expect((await moneyPost(h, u, "/api/v1/payouts", { amount: "2000" })).status).to.equal(202);
    let settled: number | undefined;
    for (let i = 0; i < 200 && !settled; i++) {
      settled = sample((await request(app).get("/metrics")).text, 'settlement_jobs_total{outcome="settled",service="settlement"}');
      if (!settled) await new Promise((r) => setTimeout(r, 25));
    }
    expect(settled).to.equal(1);
    expect(sample((await request(app).get("/metrics")).text, 'settlement_pending_payouts{service="settlement"}')).to.equal(0);
    expect((await request(app).get("/ready")).status).to.equal(200);
  });

  it("with Redis down still answers /metrics (redis 0, no queue samples) and /ready is 503 with the envelope", async () => {
    const { app } = worker(DEAD_REDIS_URL);
    const res = await request(app).get("/metrics");
    expect(res.status).to.equal(200);
    expect(sample(res.text, 'service_dependency_up{dependency="redis",service="settlement"}')).to.equal(0);
    expect(sample(res.text, 'service_dependency_up{dependency="postgres",service="settlement"}')).to.equal(1);
    expect(res.text).to.not.match(/^settlement_queue_jobs\{/m);
    const ready = await request(app).get("/ready");
    expect(ready.status).to.equal(503);
    expectEnvelope(ready.body, "UNAVAILABLE");
    expect(ready.body.error.message).to.contain("redis");
  });
});
