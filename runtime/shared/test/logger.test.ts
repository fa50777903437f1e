import { expect } from "chai";
import { Writable } from "node:stream";
import { createLogger } from "@twist/shared/logger";

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, stream };
}

describe("structured logger", () => {
  it("writes JSON lines with service, level and message", () => {
    const { lines, stream } = capture();
    createLogger("auth", { destination: stream }).info({ requestId: "r1" }, "hello");
    const line = JSON.parse(lines[0]!);
    expect(line).to.include({ service: "auth", level: "info", msg: "hello", requestId: "r1" });
  });

  it("never writes authorization, cookies, signatures, secrets or raw bodies", () => {
    const secrets = ["Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig", "session=abc123", "v1=deadbeef", "s3cr3t-value", "hunter2", "raw-body-bytes", "pk-material", "api-key-value", "tok-123"];
    const { lines, stream } = capture();
    const log = createLogger("edge", { destination: stream });
    log.info(
      {
        req: { headers: { authorization: secrets[0], cookie: secrets[1], "x-signature": secrets[2], "user-agent": "ua" } },
        config: { JWT_SECRET: secrets[3], nested: { password: secrets[4] } },
        body: secrets[5],
        privateKey: secrets[6],
        apiKey: secrets[7],
        list: [{ accessToken: secrets[8] }],
      },
      "request",
    );
    const output = lines.join("\n");
    for (const secret of secrets) expect(output).not.to.include(secret);
    expect(output).to.include('"user-agent":"ua"');
    expect(output).to.include("[redacted]");
  });

  it("keeps an error's type, message and stack (and scrubs its own fields)", () => {
    const { lines, stream } = capture();
    const err = Object.assign(new TypeError("boom"), { code: "E_BOOM", apiKey: "key-material-1" });
    createLogger("auth", { destination: stream }).error({ err }, "failed");
    const line = JSON.parse(lines[0]!);
    expect(line.err).to.include({ type: "TypeError", message: "boom", code: "E_BOOM", apiKey: "[redacted]" });
    expect(line.err.stack).to.match(/^TypeError: boom\n\s+at /);
    expect(lines[0]).to.not.include("key-material-1");
  });

  it("an error logged alone, and its cause, keep their type and message too", () => {
    const { lines, stream } = capture();
    createLogger("auth", { destination: stream }).error(new RangeError("outer", { cause: new Error("inner") }));
    const line = JSON.parse(lines[0]!);
    expect(line.err).to.include({ type: "RangeError", message: "outer: inner" });
    expect(line.msg).to.equal("outer");
  });

  it("public values whose names look like credentials stay readable: a payout's txSignature", () => {
    const { lines, stream } = capture();
    const txSignature = "5VERv8NMvzbJMEkV8xnrLkEaWRtSz9CosKDYjCJjBRnbJLgp8uirBgmQpjKhoR4tjF3ZpRzrFmBV6UjKdiSZkQUW";
    createLogger("influencer", { destination: stream }).info({ payoutId: "p1", txSignature, signature: "v1=abc" }, "payout settled");
    const line = JSON.parse(lines[0]!);
    expect(line).to.include({ txSignature, signature: "[redacted]" });
  });
});
