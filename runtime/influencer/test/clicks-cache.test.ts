// The redirect's in-process link cache across two service instances (one Postgres, one Redis):
// deactivation and expiry stop a link on every instance within the stated bound, and a counted
// click costs one Redis command.
import { randomUUID } from "node:crypto";
import { expect } from "chai";
import request from "supertest";
import { createLogger } from "@twist/shared/logger";
import { createApp, type InfluencerApp } from "../src/app";
import { LINK_CACHE_TTL_MS, linkGoneKey } from "../src/clicks/link-cache";
import { newInfluencer, newLink, startHarness, type Harness } from "./harness";

const BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36";

describe("clicks: the link cache across two instances", () => {
  let h: Harness;
  let second: InfluencerApp;
  let owner: Awaited<ReturnType<typeof newInfluencer>>;
  before(async () => {
    h = await startHarness("clicks-cache");
    second = createApp(h.config, { logger: createLogger("second", { level: "silent" }), now: h.clock.now });
    const { redis } = second.context;
    if (redis.status !== "ready") await new Promise((resolve) => redis.once("ready", resolve));
    owner = await newInfluencer(h);
  });
  after(async () => {
    await second.close();
    await h.close();
  });

  let visitor = 0;
  const follow = (app: InfluencerApp["app"], code: string) =>
    request(app)
      .get(`/l/${code}`)
      .set("User-Agent", BROWSER)
      .set("X-Forwarded-For", `203.0.113.${++visitor % 250}`);

  it("a link deactivated through one instance is 404 on both at once, though both had it cached", async () => {
    const link = await newLink(h, owner);
    expect((await follow(h.app, link.code)).status).to.equal(302);
    expect((await follow(second.app, link.code)).status).to.equal(302);
    const off = await request(h.app).post(`/api/v1/links/${link.code}/deactivate`).set(owner.auth);
    expect(off.status).to.equal(200);
    for (const app of [second.app, h.app]) {
      const res = await follow(app, link.code);
      expect(res.status).to.equal(404);
      expect(res.body.error.code).to.equal("NOT_FOUND");
    }
  });

  it("without the marker (lost with Redis), a cached copy is served at most LINK_CACHE_TTL_MS", async () => {
    const link = await newLink(h, owner);
    expect((await follow(second.app, link.code)).status).to.equal(302);
    // Deactivated in Postgres only, as if the marker write had failed.
    await h.service.context.sequelize.query(`UPDATE links SET active = false WHERE code = $1`, { bind: [link.code] });
    expect((await follow(second.app, link.code)).status).to.equal(302);
    h.clock.advance(LINK_CACHE_TTL_MS);
    expect((await follow(second.app, link.code)).status).to.equal(404);
  });

  it("an expired link is 404 on both instances from its expiry on, with no invalidation", async () => {
    const link = await newLink(h, owner, { expiresAt: new Date(h.clock.now().getTime() + 5_000).toISOString() });
    expect((await follow(h.app, link.code)).status).to.equal(302);
    expect((await follow(second.app, link.code)).status).to.equal(302);
    h.clock.advance(5_000);
    expect((await follow(h.app, link.code)).status).to.equal(404);
    expect((await follow(second.app, link.code)).status).to.equal(404);
  });

  it("the gone marker outlives every cached copy", async () => {
    const link = await newLink(h, owner);
    await request(h.app).post(`/api/v1/links/${link.code}/deactivate`).set(owner.auth).expect(200);
    const [row] = (await h.service.context.sequelize.query(`SELECT id FROM links WHERE code = $1`, { bind: [link.code] }))[0] as { id: string }[];
    const ttl = await h.service.context.redis.pttl(linkGoneKey(row!.id));
    expect(ttl).to.be.greaterThan(LINK_CACHE_TTL_MS);
  });

  it("a counted click of a cached link costs one Redis command (rate limit, dedupe and append together)", async () => {
    const link = await newLink(h, owner);
    expect((await follow(h.app, link.code)).status).to.equal(302); // caches the link and the script
    // The redirect's own connection, and the shared one its background flush uses.
    const { redis } = h.service.context;
    const admitRedis = h.service.recorder.admitRedis;
    expect(admitRedis).to.not.equal(redis);
    // No background flush may run while we count: stop the timer, then let any flush in flight end.
    h.service.recorder.stop();
    await h.service.recorder.flush();
    const sent: string[] = [];
    const spy = (client: typeof redis, name: string) => {
      const original = client.sendCommand.bind(client);
      client.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
        sent.push(`${name} ${command.name}`);
        return (original as (...args: unknown[]) => unknown)(command, ...rest);
      }) as typeof client.sendCommand;
      return () => (client.sendCommand = original);
    };
    const restore = [spy(redis, "shared"), spy(admitRedis, "admit")];
    try {
      const res = await follow(h.app, link.code);
      expect(res.status).to.equal(302);
      expect(new URL(res.headers.location as string).searchParams.get("twist_click")).to.match(/^[0-9a-f-]{36}$/);
    } finally {
      for (const undo of restore) undo();
      h.service.recorder.start();
    }
    expect(sent).to.deep.equal(["admit evalsha"]);
  });

  it("admits of one event-loop turn leave in one socket write, each answered for its own click", async () => {
    const link = await newLink(h, owner);
    expect((await follow(h.app, link.code)).status).to.equal(302); // loads the script on this connection
    const { recorder } = h.service;
    const [rows] = (await h.service.context.sequelize.query(`SELECT id FROM links WHERE code = $1`, { bind: [link.code] })) as [{ id: string }[], unknown];
    const linkId = rows[0]!.id;
    const stream = recorder.admitRedis.stream;
    const writes = { count: 0 };
    const original = stream._writev!.bind(stream);
    const originalWrite = stream._write.bind(stream);
    stream._writev = (chunks, callback) => {
      writes.count++;
      original(chunks, callback);
    };
    stream._write = (chunk, encoding, callback) => {
      writes.count++;
      originalWrite(chunk, encoding, callback);
    };
    const clicks = Array.from({ length: 10 }, (_, i) => ({ id: randomUUID(), linkId, visitorHash: `turn-visitor-${i}-${randomUUID()}`, ipHash: "turn-ip", occurredAt: new Date() }));
    try {
      const admitted = await Promise.all(clicks.map((click) => recorder.admit({ rateLimit: { key: `rl:turn:${randomUUID()}`, windowMs: 60_000, limit: 100 }, linkId, click })));
      expect(admitted.map((a) => [a.outcome, a.clickId])).to.deep.equal(clicks.map((c) => ["new", c.id]));
    } finally {
      stream._writev = original;
      stream._write = originalWrite;
    }
    expect(writes.count).to.equal(1);
  });
});
