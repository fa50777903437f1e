// The bundled influencer API (main.js, as its container runs it) stopped with SIGTERM: its event
// sockets are closed with 1001 "going away" before the process exits 0.
import { join } from "node:path";
import { expect } from "chai";
import { isolatedBundle, output, run, untilAnswers } from "../../../test/support/bundle";
import { freePort } from "../../../test/support/ports";
import { baseEnv, newUser, startHarness, type Harness } from "./harness";
import { connect } from "./events-helpers";

describe("events: SIGTERM closes sockets with 1001 before exit", function () {
  // Two starts of the bundle, each waited for until it listens or exits (a loaded run took 57 s of
  // the 60 s this test had, the build included); the bound is the backstop, not the expectation.
  this.timeout(180_000);
  let h: Harness;
  let dir: string;
  before(async function () {
    // The build is CPU-bound: bounded by the build itself, as `npm test`'s own build is.
    this.timeout(0);
    dir = isolatedBundle("influencer");
    h = await startHarness("eventssigterm");
  });
  after(async () => h?.close());

  it("two sockets get 1001, the process exits 0, and a restarted process serves the replay", async () => {
    const port = await freePort();
    const env = { ...baseEnv(h.db, h.prefix), PORT: String(port) };
    const start = async () => {
      const child = run(join(dir, "main.js"), env);
      const exited = output(child);
      await untilAnswers(`http://127.0.0.1:${port}/health`, child);
      return { child, exited };
    };
    const u = await newUser();
    const first = await start();
    const url = `ws://127.0.0.1:${port}/api/v1/events`;
    const sockets = [await connect(url, u.token), await connect(url, u.token, { via: "message" })];
    await Promise.all(sockets.map((c) => c.waitControl("ready")));
    first.child.kill("SIGTERM");
    for (const c of sockets) expect((await c.closed).code).to.equal(1001);
    const { code, stdout } = await first.exited;
    expect(code, stdout).to.equal(0);

    // The second time: a new process, and a client resuming from where it was.
    const second = await start();
    const again = await connect(url, u.token, { lastEventId: "0" });
    expect((await again.waitControl("ready")).control).to.equal("ready");
    second.child.kill("SIGTERM");
    expect((await again.closed).code).to.equal(1001);
    expect((await second.exited).code).to.equal(0);
  });
});
