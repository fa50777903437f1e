// A Worker cannot refuse to start: with bad configuration it answers 503 UNAVAILABLE naming every bad
// variable, and the signature check cannot be switched off outside development.
import { expect } from "chai";
import { startEdge, type RunningEdge } from "../local/miniflare";
import { errorOf, JWT_KEYS, send, SERVICE_KEY, vauBody } from "./support";

describe("edge configuration (workerd)", () => {
  let edge: RunningEdge;

  before(async () => {
    edge = await startEdge({
      env: {},
      vars: {
        ENVIRONMENT: "staging",
        JWT_KEYS,
        SERVICE_SIGNING_KEYS: SERVICE_KEY,
        RATE_LIMIT_DEVICE_PER_MINUTE: "lots",
        RATE_LIMIT_WALLET_PER_MINUTE: "5000",
        MAX_EARNED_PER_VAU: "1.5",
      },
    });
  });
  after(async () => {
    await edge?.stop();
  });

  it("answers ingest with 503 UNAVAILABLE naming each bad variable, including the signing keys outside development", async () => {
    const res = await send(edge, vauBody());
    expect(res.status).to.equal(503);
    const err = await errorOf(res);
    expect(err.code).to.equal("UNAVAILABLE");
    for (const name of ["VAU_SIGNING_KEYS", "RATE_LIMIT_DEVICE_PER_MINUTE", "RATE_LIMIT_WALLET_PER_MINUTE", "MAX_EARNED_PER_VAU"]) expect(err.message).to.include(name);
    expect(err.message).to.not.include(JWT_KEYS.split(":")[1]!);
  });

  it("reports the same problems on /health", async () => {
    const res = await fetch(new URL("/health", edge.url));
    expect(res.status).to.equal(503);
    expect((await errorOf(res)).message).to.include("VAU_SIGNING_KEYS");
  });

  it("still answers routing errors with envelopes", async () => {
    const res = await fetch(new URL("/nowhere", edge.url));
    expect(res.status).to.equal(404);
    expect((await errorOf(res)).code).to.equal("NOT_FOUND");
  });
});
