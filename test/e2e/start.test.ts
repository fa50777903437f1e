import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../support/bundle";
import { createTestDatabase, type TestDatabase } from "../support/postgres";
import { deleteRedisPrefix, testRedisPrefix } from "../support/redis";
import { launch } from "./launcher";

// `npm start` itself (scripts/start.ts): builds, starts everything, prints the URLs and keys, and on
// Ctrl-C (SIGINT to the launcher alone, the harder case) stops every service before it exits.
describe("npm start", function () {
  // Generous bounds: on a loaded machine the build and start-up take minutes; the test waits for
  // the launcher's own progress, and these limits only stop a hung run.
  this.timeout(600_000);
  let db: TestDatabase;
  let state: string;
  const prefix = testRedisPrefix("start");
  before(async () => {
    db = await createTestDatabase("start");
    state = mkdtempSync(join(tmpdir(), "twist-edge-state-"));
  });
  after(async () => {
    await db?.drop();
    await deleteRedisPrefix(prefix);
    rmSync(state, { recursive: true, force: true });
  });

  it("runs the platform, prints URLs and development keys, and stops every service on SIGINT", async () => {
    const { child: launcher, ports, output, exited } = await launch("scripts/start.ts", { cwd: ROOT, databaseUrl: db.url, redisPrefix: prefix, edgeStateDir: state });
    const deadline = Date.now() + 480_000;
    while (!output().includes("Ctrl-C stops everything.") && Date.now() < deadline && launcher.exitCode === null) await new Promise((r) => setTimeout(r, 200));
    expect(output(), output()).to.include("Ctrl-C stops everything.");
    // Progress as it goes: each step is printed as it begins, in order, before the summary.
    const steps = [
      "building bundles (dist/) ...",
      "checking PostgreSQL and Redis ...",
      "migrating the database ...",
      "starting auth, the influencer API and the settlement worker ...",
      "starting the edge Worker in workerd ...",
      "waiting until auth and the influencer API are ready ...",
      "TWIST is running locally.",
    ];
    const at = steps.map((s) => output().indexOf(s));
    expect(
      at.every((i) => i >= 0),
      output(),
    ).to.equal(true);
    expect([...at].sort((a, b) => a - b)).to.deep.equal(at);
    expect(output()).to.include(`http://127.0.0.1:${ports.EDGE_PORT}`).and.to.include("VAU_SIGNING_KEYS=").and.to.include("MERCHANT_SIGNING_KEYS=");

    const urls = [
      `http://127.0.0.1:${ports.EDGE_PORT}/health`,
      `http://127.0.0.1:${ports.AUTH_PORT}/ready`,
      `http://127.0.0.1:${ports.INFLUENCER_PORT}/ready`,
      `http://127.0.0.1:${ports.SETTLEMENT_METRICS_PORT}/ready`,
    ];
    // The settlement worker is not waited for by the launcher: give it a few seconds to listen.
    const statusOf = async (url: string) => {
      for (let i = 0; i < 50; i++) {
        const status = await fetch(url).then(
          (r) => r.status,
          () => undefined,
        );
        if (status !== undefined) return status;
        await new Promise((r) => setTimeout(r, 200));
      }
      return undefined;
    };
    for (const url of urls) expect(await statusOf(url), url).to.equal(200);
    // /metrics of the services: private listeners only; the public ports answer 404.
    for (const [service, publicPort, metricsPort] of [
      ["auth", ports.AUTH_PORT, ports.AUTH_METRICS_PORT],
      ["influencer", ports.INFLUENCER_PORT, ports.INFLUENCER_METRICS_PORT],
    ] as const) {
      expect((await fetch(`http://127.0.0.1:${publicPort}/metrics`)).status, service).to.equal(404);
      expect(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text(), service).to.include(`service="${service}"`);
    }

    launcher.kill("SIGINT");
    const [code] = await exited;
    expect(code, output()).to.equal(0);
    expect(output()).to.match(/stopping \.\.\.\n[\s\S]*stopped\.\n/);
    for (const url of urls) {
      const reached = await fetch(url).then(
        () => true,
        () => false,
      );
      expect(reached, `${url} still answers after npm start stopped`).to.equal(false);
    }
  });
});
