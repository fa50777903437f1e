// Durable Object state survives a restart of the runtime: the rate-limit window and the dedupe claims
// are read back from storage (Miniflare persistence folder), not rebuilt empty.
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEdge, type RunningEdge, type EdgeRunnerOptions } from "../local/miniflare";
import { errorOf, newWallet, send, TEST_SECRETS, tokenFor, vauBody } from "./support";

const LIMIT = 3;

describe("edge state across a restart (workerd)", () => {
  let dir: string;
  let edge: RunningEdge | undefined;
  let options: EdgeRunnerOptions;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "twist-edge-"));
    options = {
      persistDir: dir,
      vars: {
        ...TEST_SECRETS,
        ENVIRONMENT: "staging",
        BACKEND_URL: "http://127.0.0.1:9",
        RATE_LIMIT_WALLET_PER_MINUTE: "100",
        RATE_LIMIT_DEVICE_PER_MINUTE: String(LIMIT),
      },
    };
  });
  after(async () => {
    await edge?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps rate limits and seen VAUs when the Durable Objects restart", async () => {
    edge = await startEdge(options);
    const token = await tokenFor(newWallet());
    const deviceId = vauBody().deviceId;
    // Distinct timestamps from one base: the vauId derives from the timestamp, and two VAUs built a
    // millisecond apart could otherwise share one (a 409 instead of a 200).
    const start = Date.now() - 1000;
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT; i++) statuses.push((await send(edge, vauBody({ deviceId, timestamp: start - i }), { token })).status);
    expect(statuses).to.deep.equal([200, 200, 200]);
    const seen = vauBody();
    const accepted = await send(edge, seen, { token });
    expect(accepted.status).to.equal(200);
    const { vauId } = (await accepted.json()) as { vauId: string };
    await edge.stop();

    edge = await startEdge(options);
    const over = await send(edge, vauBody({ deviceId, timestamp: start - 10 }), { token });
    expect(over.status).to.equal(429);
    expect((await errorOf(over)).code).to.equal("RATE_LIMITED");
    const other = await send(edge, vauBody(), { token });
    expect(other.status).to.equal(200);
    // The dedupe shard (a Durable Object; there is no other seen-VAU store) remembers it.
    const again = await send(edge, seen, { token });
    expect(again.status).to.equal(409);
    const err = await errorOf(again);
    expect(err.code).to.equal("DUPLICATE_VAU");
    expect(err.details.vauId).to.equal(vauId);
  });
});
