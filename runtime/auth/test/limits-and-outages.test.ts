import { expect } from "chai";
import request from "supertest";
import { metricsAppOf } from "@twist/service";
import { DEAD_REDIS_URL } from "../../../test/support/redis";
import { newWallet, requestNonce, startService, verifyBody, type TestService } from "./support";

describe("auth: rate limits", () => {
  describe("per client IP, from the socket when no proxy header is trusted", () => {
    let svc: TestService;
    before(async () => {
      svc = await startService("ip-limit", { RATE_LIMIT_PER_IP: "3", RATE_LIMIT_WINDOW_SECONDS: "120" });
    });
    after(() => svc.close());

    it("answers 429 RATE_LIMITED with Retry-After after the limit, whatever forwarding headers say", async () => {
      for (let i = 0; i < 3; i++) {
        const res = await request(svc.app).post("/auth/nonce").set("X-Forwarded-For", `10.0.0.${i}`).send({ walletAddress: newWallet().address });
        expect(res.status).to.equal(200);
        expect(res.headers).to.have.property("x-ratelimit-remaining");
      }
      const spoofed = await request(svc.app).post("/auth/nonce").set("X-Forwarded-For", "10.9.9.9").set("X-Real-IP", "10.9.9.9").send({ walletAddress: newWallet().address });
      expect(spoofed.status).to.equal(429);
      expect(spoofed.body.error.code).to.equal("RATE_LIMITED");
      expect(Number(spoofed.headers["retry-after"])).to.be.within(1, 120);
      const verify = await request(svc.app).post("/auth/verify").send({ walletAddress: "x" });
      expect(verify.status, "verify shares the IP budget and is limited before validation").to.equal(429);
    });
  });

  describe("with TRUSTED_PROXY_HEADER set", () => {
    let svc: TestService;
    before(async () => {
      svc = await startService("proxy-limit", { TRUSTED_PROXY_HEADER: "X-Client-IP", RATE_LIMIT_PER_IP: "2", RATE_LIMIT_PER_WALLET: "3" });
    });
    after(() => svc.close());

    it("keys the IP limit on the configured header only", async () => {
      const nonce = (ip: string) => request(svc.app).post("/auth/nonce").set("X-Client-IP", ip).set("X-Forwarded-For", "1.1.1.1").send({ walletAddress: newWallet().address });
      expect((await nonce("192.0.2.1")).status).to.equal(200);
      expect((await nonce("192.0.2.1")).status).to.equal(200);
      expect((await nonce("192.0.2.1")).status).to.equal(429);
      expect((await nonce("192.0.2.2")).status, "another client behind the proxy has its own budget").to.equal(200);
    });

    // Each sign-in below comes from its own IP, so only the wallet's limit (3) can answer 429.
    const signIn = async (wallet: ReturnType<typeof newWallet>, ip: string) => {
      const nonce = await request(svc.app).post("/auth/nonce").set("X-Client-IP", ip).send({ walletAddress: wallet.address });
      expect(nonce.status).to.equal(200);
      return request(svc.app).post("/auth/verify").set("X-Client-IP", ip).send(verifyBody(wallet, nonce.body.message));
    };

    it("limits one wallet's signed sign-ins across many IPs", async () => {
      const wallet = newWallet();
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await signIn(wallet, `198.51.100.${i}`)).status);
      expect(statuses).to.deep.equal([200, 200, 200]);
      const limited = await signIn(wallet, "198.51.100.50");
      expect(limited.status).to.equal(429);
      expect(limited.body.error.code).to.equal("RATE_LIMITED");
      expect(limited.headers["retry-after"]).to.match(/^[1-9][0-9]*$/);
      expect((await signIn(newWallet(), "198.51.100.51")).status, "other wallets are unaffected").to.equal(200);
    });

    it("cannot be spent by a stranger: unsigned nonces and forged verifies for a wallet do not lock its owner out", async () => {
      const victim = newWallet();
      const attacker = newWallet();
      for (let i = 0; i < 6; i++) {
        const ip = `203.0.113.${i}`;
        const nonce = await request(svc.app).post("/auth/nonce").set("X-Client-IP", ip).send({ walletAddress: victim.address });
        expect(nonce.status).to.equal(200);
        const forged = await request(svc.app)
          .post("/auth/verify")
          .set("X-Client-IP", ip)
          .send(verifyBody(victim, nonce.body.message, "base58", attacker));
        expect(forged.body.error.code).to.equal("SIGNATURE_INVALID");
      }
      expect((await signIn(victim, "203.0.113.100")).status).to.equal(200);
    });
  });
});

describe("auth: Redis down", () => {
  let live: TestService;
  let dead: TestService;
  before(async () => {
    live = await startService("outage-live");
    // Redis unreachable: every answer must be 503, never one computed from process memory.
    dead = await startService("outage-dead", {}, DEAD_REDIS_URL);
  });
  after(async () => {
    await live.close();
    dead.redis.disconnect();
  });

  it("/health stays 200 and /ready is 503 UNAVAILABLE", async () => {
    expect((await request(dead.app).get("/health")).status).to.equal(200);
    const ready = await request(dead.app).get("/ready");
    expect(ready.status).to.equal(503);
    expect(ready.body.error.code).to.equal("UNAVAILABLE");
    const liveReady = await request(live.app).get("/ready");
    expect(liveReady.status).to.equal(200);
    expect(liveReady.body.checks).to.deep.equal({ redis: "ok" });
  });

  it("nonce and verify answer 503 UNAVAILABLE, and no token is issued", async () => {
    const wallet = newWallet();
    const nonce = await request(dead.app).post("/auth/nonce").send({ walletAddress: wallet.address });
    expect(nonce.status).to.equal(503);
    expect(nonce.body.error.code).to.equal("UNAVAILABLE");
    const issued = await requestNonce(live.app, wallet);
    const body = verifyBody(wallet, issued.message);
    const verify = await request(dead.app).post("/auth/verify").send(body);
    expect(verify.status).to.equal(503);
    expect(verify.body.error.code).to.equal("UNAVAILABLE");
    expect(verify.body).to.not.have.property("accessToken");
    // The outage consumed nothing: the nonce still works where Redis answers, once.
    expect((await request(live.app).post("/auth/verify").send(body)).status).to.equal(200);
    expect((await request(dead.app).post("/auth/verify").send(body)).status).to.equal(503);
  });

  it("/auth/me needs no Redis: a token still verifies during the outage", async () => {
    const wallet = newWallet();
    const { message } = await requestNonce(live.app, wallet);
    const { accessToken } = (await request(live.app).post("/auth/verify").send(verifyBody(wallet, message))).body as { accessToken: string };
    const me = await request(dead.app).get("/auth/me").set("Authorization", `Bearer ${accessToken}`);
    expect(me.status).to.equal(200);
    expect(me.body.sub).to.equal(wallet.address);
  });
});

describe("auth: /metrics", () => {
  let svc: TestService;
  before(async () => {
    svc = await startService("metrics");
  });
  after(() => svc.close());

  it("counts nonces and sign-in outcomes by code", async () => {
    const wallet = newWallet();
    const { message } = await requestNonce(svc.app, wallet);
    expect(
      (
        await request(svc.app)
          .post("/auth/verify")
          .send(verifyBody(wallet, message, "base58", newWallet()))
      ).status,
    ).to.equal(401);
    expect((await request(svc.app).post("/auth/verify").send(verifyBody(wallet, message))).status).to.equal(200);
    expect((await request(svc.app).get("/metrics")).status).to.equal(404);
    const res = await request(metricsAppOf(svc.app)).get("/metrics");
    expect(res.status).to.equal(200);
    expect(res.text).to.match(/^auth_nonces_issued_total\{service="auth"\} 1$/m);
    expect(res.text).to.match(/^auth_sign_ins_total\{outcome="ok",service="auth"\} 1$/m);
    expect(res.text).to.match(/^auth_sign_ins_total\{outcome="SIGNATURE_INVALID",service="auth"\} 1$/m);
    expect(res.text).to.match(/^auth_sign_ins_total\{outcome="NONCE_REPLAYED",service="auth"\} 0$/m);
    expect(res.text).to.match(/^http_requests_total\{method="POST",route="\/auth\/verify",status="401",service="auth"\} 1$/m);
  });
});
