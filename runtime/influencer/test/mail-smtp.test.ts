// Email verification through a real SMTP server started here (smtp-server: the named test double at
// the mail-provider boundary). The message is read as delivered; a relay that refuses answers 503
// and leaves nothing half-written, so the same request succeeds on retry.
import { createServer, type Server } from "node:net";
import { Writable } from "node:stream";
import { expect } from "chai";
import { simpleParser, type ParsedMail } from "mailparser";
import { SMTPServer } from "smtp-server";
import request from "supertest";
import { ConfigError } from "@twist/shared/config";
import { createLogger } from "@twist/shared/logger";
import { loadInfluencerConfig } from "../src/config";
import { recipientHash } from "../src/mail";
import { countRows, expectEnvelope, JWT_KEYS_TEXT, MERCHANT_KEY, newUser, SERVICE_KEY, startHarness, type Harness } from "./harness";

/** The mail provider, local: accepts authenticated mail, or refuses the next `refuse` messages with 451. */
class TestRelay {
  readonly delivered: ParsedMail[] = [];
  refuse = 0;
  port = 0;
  private readonly server = new SMTPServer({
    disabledCommands: ["STARTTLS"],
    allowInsecureAuth: true,
    authMethods: ["PLAIN", "LOGIN"],
    onAuth: (auth, _session, callback) =>
      auth.username === "relay-user" && auth.password === "relay-password" ? callback(null, { user: auth.username }) : callback(new Error("bad credentials")),
    onData: (stream, _session, callback) => {
      if (this.refuse > 0) {
        this.refuse -= 1;
        stream.resume();
        stream.on("end", () => callback(Object.assign(new Error("try again later"), { responseCode: 451 })));
        return;
      }
      simpleParser(stream).then(
        (mail) => {
          this.delivered.push(mail);
          callback();
        },
        (err: Error) => callback(err),
      );
    },
  });
  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.server.address() as { port: number }).port;
  }
  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
  lastToken(): string {
    const match = /token=([A-Za-z0-9_-]+)/.exec(this.delivered.at(-1)?.text ?? "");
    if (!match) throw new Error("no verification link was delivered");
    return match[1]!;
  }
}

/** Log lines as parsed JSON (the logger's destination, in memory). */
function memoryLog(): { lines: Record<string, unknown>[]; raw: string[]; stream: Writable } {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split("\n").filter(Boolean)) {
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { lines, raw, stream };
}

async function closedPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const smtpEnv = (port: number) => ({
  MAIL_TRANSPORT: "smtp",
  SMTP_HOST: "127.0.0.1",
  SMTP_PORT: String(port),
  SMTP_TLS: "none",
  SMTP_USER: "relay-user",
  SMTP_PASSWORD: "relay-password",
  MAIL_FROM: "TWIST <no-reply@twist.test>",
  SMTP_TIMEOUT_MS: "2000",
});

describe("influencer mail: SMTP delivery", () => {
  const relay = new TestRelay();
  const log = memoryLog();
  let h: Harness;
  before(async () => {
    await relay.start();
    h = await startHarness("mailsmtp", smtpEnv(relay.port), { mailer: undefined, logger: createLogger("influencer-test", { level: "info", destination: log.stream }) });
  });
  after(async () => {
    await h.close();
    await relay.stop();
  });

  it("delivers the verification link by SMTP; the link verifies; the log has the recipient hash and message id only", async () => {
    const user = await newUser();
    const res = await request(h.app).post("/api/v1/influencers").set(user.auth).send({ username: "mailed_1", displayName: "M", email: "Mailed@Example.com" });
    expect(res.status).to.equal(201);
    const mail = relay.delivered.at(-1)!;
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.text : "").to.equal("mailed@example.com");
    expect(mail.from?.value[0]).to.include({ name: "TWIST", address: "no-reply@twist.test" });
    expect(mail.subject).to.equal("Verify your email for TWIST");
    const token = relay.lastToken();
    expect(mail.text).to.include(`https://twist.test/verify-email?token=${token}`);

    const sent = log.lines.find((l) => l.msg === "mail sent") as { mail: { to: string; messageId: string } } | undefined;
    expect(sent?.mail.to).to.equal(recipientHash("mailed@example.com"));
    expect(sent?.mail.messageId).to.equal(mail.messageId?.startsWith("<") ? mail.messageId : `<${mail.messageId}>`);
    for (const line of log.raw) {
      expect(line).to.not.include(token);
      expect(line.toLowerCase()).to.not.include("mailed@example.com");
    }

    const verified = await request(h.app).post("/api/v1/influencers/verify-email").send({ token });
    expect(verified.status).to.equal(200);
    expect(verified.body.emailVerified).to.equal(true);
  });

  it("a refused message answers 503 and writes nothing; the same registration then succeeds", async () => {
    const user = await newUser();
    const body = { username: "refused_1", displayName: "R", email: "refused@example.com" };
    relay.refuse = 1;
    const refused = await request(h.app).post("/api/v1/influencers").set(user.auth).send(body);
    expect(refused.status).to.equal(503);
    expectEnvelope(refused.body, "UNAVAILABLE");
    expect(JSON.stringify(refused.body)).to.not.include("token");
    expect(await countRows(h, "influencers", "username = 'refused_1'")).to.equal(0);
    expect(await countRows(h, "email_verifications", "email = 'refused@example.com'")).to.equal(0);

    const retried = await request(h.app).post("/api/v1/influencers").set(user.auth).send(body);
    expect(retried.status).to.equal(201);
    expect(relay.delivered.at(-1)!.subject).to.equal("Verify your email for TWIST");
    const verified = await request(h.app).post("/api/v1/influencers/verify-email").send({ token: relay.lastToken() });
    expect(verified.status).to.equal(200);
  });

  it("a refused resend keeps the earlier link working; a retried resend replaces it", async () => {
    const user = await newUser();
    expect((await request(h.app).post("/api/v1/influencers").set(user.auth).send({ username: "resend_1", displayName: "S", email: "resend@example.com" })).status).to.equal(201);
    const first = relay.lastToken();
    relay.refuse = 1;
    const refused = await request(h.app).post("/api/v1/influencers/me/email-verification").set(user.auth);
    expect(refused.status).to.equal(503);
    expectEnvelope(refused.body, "UNAVAILABLE");

    const resent = await request(h.app).post("/api/v1/influencers/me/email-verification").set(user.auth);
    expect(resent.status).to.equal(202);
    const second = relay.lastToken();
    expect(second).to.not.equal(first);
    const stale = await request(h.app).post("/api/v1/influencers/verify-email").send({ token: first });
    expect(stale.status).to.equal(400);
    expect(stale.body.error.details.reason).to.equal("TOKEN_USED");
    expect((await request(h.app).post("/api/v1/influencers/verify-email").send({ token: second })).status).to.equal(200);
  });

  it("an email change that cannot be mailed leaves the profile unchanged (503)", async () => {
    const user = await newUser();
    expect((await request(h.app).post("/api/v1/influencers").set(user.auth).send({ username: "change_1", displayName: "C", email: "before@example.com" })).status).to.equal(201);
    relay.refuse = 1;
    const refused = await request(h.app).patch("/api/v1/influencers/me").set(user.auth).send({ email: "after@example.com" });
    expect(refused.status).to.equal(503);
    const me = await request(h.app).get("/api/v1/influencers/me").set(user.auth);
    expect(me.body.email).to.equal("before@example.com");
  });
});

describe("influencer mail: relay unreachable", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness("mailnone", smtpEnv(await closedPort()), { mailer: undefined });
  });
  after(async () => {
    await h.close();
  });

  it("nothing listening at SMTP_HOST:SMTP_PORT: 503 envelope, nothing registered", async () => {
    const user = await newUser();
    const res = await request(h.app).post("/api/v1/influencers").set(user.auth).send({ username: "nobody_1", displayName: "N", email: "n@example.com" });
    expect(res.status).to.equal(503);
    expectEnvelope(res.body, "UNAVAILABLE");
    expect(await countRows(h, "influencers", "username = 'nobody_1'")).to.equal(0);
  });
});

describe("influencer mail: transport configuration", () => {
  const base = {
    DATABASE_URL: "postgres://127.0.0.1:5432/x",
    REDIS_URL: "redis://127.0.0.1:6379",
    JWT_KEYS: JWT_KEYS_TEXT,
    SERVICE_SIGNING_KEYS: SERVICE_KEY,
    MERCHANT_SIGNING_KEYS: MERCHANT_KEY,
    IP_HASH_SALT: "influencer-test-ip-salt-0001",
    MERCHANT_DOMAINS: "shop.example.com",
    PUBLIC_BASE_URL: "https://twist.test",
  };
  const problems = (env: Record<string, string>): string[] => {
    try {
      loadInfluencerConfig({ ...base, ...env });
      return [];
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      return err.problems.map((p) => p.name);
    }
  };

  it("development defaults to the log transport", () => {
    expect(loadInfluencerConfig({ ...base, TWIST_ENV: "development" }).MAIL_TRANSPORT).to.equal("log");
  });
  it("staging without MAIL_TRANSPORT, or with log, refuses naming MAIL_TRANSPORT", () => {
    expect(problems({ TWIST_ENV: "staging" })).to.deep.equal(["MAIL_TRANSPORT"]);
    expect(problems({ TWIST_ENV: "production", MAIL_TRANSPORT: "log" })).to.deep.equal(["MAIL_TRANSPORT"]);
  });
  it("smtp needs SMTP_HOST and MAIL_FROM; a user needs SMTP_PASSWORD; plaintext SMTP only in development", () => {
    expect(problems({ TWIST_ENV: "staging", MAIL_TRANSPORT: "smtp" })).to.have.members(["SMTP_HOST", "MAIL_FROM"]);
    expect(problems({ TWIST_ENV: "staging", MAIL_TRANSPORT: "smtp", SMTP_HOST: "smtp.example.com", MAIL_FROM: "a@b.co", SMTP_USER: "u" })).to.deep.equal(["SMTP_PASSWORD"]);
    expect(problems({ TWIST_ENV: "staging", MAIL_TRANSPORT: "smtp", SMTP_HOST: "smtp.example.com", MAIL_FROM: "a@b.co", SMTP_TLS: "none" })).to.deep.equal(["SMTP_TLS"]);
    expect(problems({ TWIST_ENV: "staging", MAIL_TRANSPORT: "smtp", SMTP_HOST: "smtp.example.com", MAIL_FROM: "not an address" })).to.deep.equal(["MAIL_FROM"]);
  });
  it("a valid staging SMTP configuration folds into config.SMTP", () => {
    const c = loadInfluencerConfig({
      ...base,
      TWIST_ENV: "staging",
      MAIL_TRANSPORT: "smtp",
      SMTP_HOST: "smtp.example.com",
      SMTP_PORT: "465",
      SMTP_TLS: "implicit",
      SMTP_USER: "u",
      SMTP_PASSWORD: "p",
      MAIL_FROM: "TWIST <no-reply@example.com>",
    });
    expect(c.SMTP).to.deep.equal({ host: "smtp.example.com", port: 465, tls: "implicit", user: "u", password: "p", from: "TWIST <no-reply@example.com>", timeoutMs: 10_000 });
    expect(c).to.not.have.any.keys("SMTP_HOST", "SMTP_PASSWORD");
  });
});
