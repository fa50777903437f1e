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
});
