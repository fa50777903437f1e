// Robustness of the influencer API: every route of docs/api/influencer.yaml gets hostile input
// (cases.ts); no answer may be 5xx and every error is the contract 6 envelope with a 4xx status
// (probe.ts). A valid influencer reaching another user's resource by path id gets 403/404.
import { expect } from "chai";
import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import request from "supertest";
import { deleteRedisPrefix } from "../support/redis";
import {
  fund,
  rewardMessage,
  JWT_KEY_SET as INFLUENCER_JWT_KEY_SET,
  MERCHANT_KEY,
  SERVICE_KEY,
  newInfluencer,
  newLink,
  newUser,
  startHarness,
  type Harness,
} from "../../runtime/influencer/test/harness";
import { fillPath, routeProbes, type ServiceUnderTest } from "./cases";
import { committed, type Documented, methodsByTemplate, openApiRoutes, type Route } from "./openapi";
import { withRequestSchemas } from "@twist/service";
import { close, expectClean, listen, runProbes } from "./probe";

/** The influencer service keeps the service kit's default body limit (runtime/service/src/body.ts). */
const INFLUENCER_BODY_LIMIT = 64 * 1024;

describe("fuzz: no server errors — influencer (every route of docs/api/influencer.yaml)", () => {
  // The operations, for one test each; their request schemas once the app has mounted its routes.
  const listed = openApiRoutes(committed("docs/api/influencer.yaml")).routes;
  let routes: Route[] = [];
  let resolve: Documented["resolve"];
  let h: Harness;
  let server: Server;
  let owner: Awaited<ReturnType<typeof newInfluencer>>;
  let other: Awaited<ReturnType<typeof newInfluencer>>;
  let link: { code: string };
  let poolId: string;
  let payoutId: string;

  before(async () => {
    h = await startHarness("fuzz");
    ({ routes, resolve } = openApiRoutes(withRequestSchemas(committed("docs/api/influencer.yaml"), h.app)));
    server = await listen(h.app);
    owner = await newInfluencer(h);
    other = await newInfluencer(h);
    link = await newLink(h, owner);
    const pool = await request(server).post("/api/v1/pools").set(owner.auth).send({ name: "Owner pool", revenueShareBps: 500, minStake: "1000" });
    if (pool.status !== 201) throw new Error(`pool creation failed: ${pool.status} ${pool.text}`);
    poolId = pool.body.pool.id;
    await fund(h, owner.wallet, 100_000_000_000n);
    await fund(h, other.wallet, 100_000_000_000n);
    const payout = await request(server).post("/api/v1/payouts").set(owner.auth).set("Idempotency-Key", `fuzz-${randomUUID()}`).send({ amount: "20000000000" });
    if (payout.status !== 202) throw new Error(`payout request failed: ${payout.status} ${payout.text}`);
    payoutId = payout.body.payout.id;
  });
  after(async () => {
    await close(server);
    await h?.close();
  });

  function svcFor(token: string): ServiceUnderTest {
    return {
      limit: INFLUENCER_BODY_LIMIT,
      keySet: INFLUENCER_JWT_KEY_SET,
      token,
      pathValue: (template, param) => {
        if (param === "code") return link.code;
        if (param === "username") return owner.username;
        if (template.startsWith("/api/v1/pools/")) return poolId;
        if (template.startsWith("/api/v1/payouts/")) return payoutId;
        throw new Error(`no valid value for {${param}} of ${template}`);
      },
      signingKey: (template) => (template.startsWith("/internal/") ? SERVICE_KEY : MERCHANT_KEY),
      resolve,
      allMethods: methodsByTemplate(routes),
      itemSample: (property) => (property === "messages" ? () => ({ ...rewardMessage(owner.wallet) }) : undefined),
    };
  }

  it("reads the routes from the OpenAPI document", () => {
    expect(routes.length).to.be.greaterThan(25);
    expect(routes.filter((r) => r.signed).map((r) => r.template)).to.have.members(["/api/v1/conversions", "/internal/v1/rewards"]);
  });

  for (const { method, template } of listed) {
    it(`${method} ${template}: never 5xx, errors are envelopes`, async function () {
      const route = routes.find((r) => r.method === method && r.template === template)!;
      // Registration is probed as a wallet that is not registered yet, so validation is reached.
      const token = route.template === "/api/v1/influencers" ? (await newUser()).token : owner.token;
      const probes = await routeProbes(route, svcFor(token));
      expectClean(await runProbes(this, server, probes, () => deleteRedisPrefix(`${h.prefix}rl:`)), probes);
    });
  }

  // Routes whose path id names something owned: another influencer gets 403/404, and nothing changes.
  // Every authenticated route with a path parameter must be classified here, so a new one is not missed.
  const OWNED = new Set(["POST /api/v1/links/{code}/deactivate", "GET /api/v1/links/{code}/stats", "PATCH /api/v1/pools/{id}", "GET /api/v1/payouts/{id}"]);
  /** Acting on another influencer's pool is what staking is: the caller's own position, not the owner's. */
  const SHARED = new Set(["POST /api/v1/pools/{id}/stake", "POST /api/v1/pools/{id}/unstake", "POST /api/v1/pools/{id}/claim"]);

  it("classifies every authenticated route with a path id as owned or shared", () => {
    const withIds = routes.filter((r) => r.bearer && r.pathParams.length).map((r) => `${r.method} ${r.template}`);
    expect(
      withIds.filter((r) => !OWNED.has(r) && !SHARED.has(r)),
      "unclassified routes",
    ).to.deep.equal([]);
  });

  it("another influencer's link, pool and payout by path id: 403/404, no data, nothing changed", async () => {
    // Fresh resources: the fuzzing above may have deactivated the owner's first link or renamed the pool.
    const ownLink = await newLink(h, owner);
    const before = (await request(server).get(`/api/v1/pools/${poolId}`)).body.pool;
    const ids: Record<string, string> = { code: ownLink.code, id: "" };
    const bodies: Record<string, object> = { "PATCH /api/v1/pools/{id}": { name: "Hijacked pool", revenueShareBps: 0 } };
    for (const route of routes.filter((r) => OWNED.has(`${r.method} ${r.template}`))) {
      ids.id = route.template.startsWith("/api/v1/pools/") ? poolId : payoutId;
      const path = fillPath(route.template, ids);
      const key = `${route.method} ${route.template}`;
      const req = (request(server) as unknown as Record<string, (p: string) => request.Test>)[route.method.toLowerCase()]!(path).set(other.auth);
      const res = bodies[key] ? await req.send(bodies[key]) : await req;
      expect([403, 404], `${key}: ${res.status} ${res.text}`).to.include(res.status);
      expect(Object.keys(res.body), key).to.deep.equal(["error"]);
      expect(res.body.error.requestId, key).to.equal(res.headers["x-request-id"]);
      for (const secret of [owner.wallet, ownLink.code, payoutId, poolId]) expect(res.text, key).not.to.contain(secret);
    }
    const links = await request(server).get("/api/v1/links").set(owner.auth);
    expect(links.body.links.find((l: { code: string }) => l.code === ownLink.code).active).to.equal(true);
    expect((await request(server).get(`/api/v1/links/${ownLink.code}/stats`).set(owner.auth)).status).to.equal(200);
    const after = (await request(server).get(`/api/v1/pools/${poolId}`)).body.pool;
    expect(after).to.deep.equal(before);
    const payout = await request(server).get(`/api/v1/payouts/${payoutId}`).set(owner.auth);
    expect(payout.status).to.equal(200);
    expect(payout.body.payout.id).to.equal(payoutId);
  });

  it("another influencer's public profile never shows the email or the wallet", async () => {
    const res = await request(server).get(`/api/v1/influencers/${owner.username}`).set(other.auth);
    expect(res.status).to.equal(200);
    expect(res.text).not.to.contain("@example.com");
    expect(res.text).not.to.contain(owner.wallet);
  });
});
