// Requests that Express or body-parser refuse before any handler runs (an undecodable path
// parameter, a compressed body that does not inflate) are the client's fault: 400 envelope, not 500.
import { expect } from "chai";
import { Writable } from "node:stream";
import { gzipSync } from "node:zlib";
import request from "supertest";
import { createLogger } from "@twist/shared/logger";
import { createServiceApp } from "@twist/service";

const silent = createLogger("test", { destination: new Writable({ write: (_c, _e, done) => done() }) });

describe("service kit: malformed requests", () => {
  const { app } = createServiceApp({
    service: "kit",
    logger: silent,
    readiness: {},
    routes: (a) => {
      a.get("/items/:id", (req, res) => {
        res.json({ id: req.params.id });
      });
      a.post("/echo", (req, res) => {
        res.json(req.body);
      });
    },
  });

  function expectMalformed(res: request.Response): void {
    expect(res.status).to.equal(400);
    expect(res.body.error.code).to.equal("VALIDATION_ERROR");
    expect(res.body.error.details).to.deep.equal({ reason: "MALFORMED_REQUEST" });
    expect(res.body.error.requestId).to.equal(res.headers["x-request-id"]);
  }

  for (const bad of ["%FF", "%", "%ED%A0%80"]) {
    it(`a path parameter that is not valid percent-encoding (${bad}) is 400, not 500`, async () => {
      expectMalformed(await request(app).get(`/items/${bad}`));
    });
  }

  it("still decodes a well-formed percent-encoded path parameter", async () => {
    const res = await request(app).get(`/items/${encodeURIComponent("名前")}`);
    expect(res.status).to.equal(200);
    expect(res.body.id).to.equal("名前");
  });

  for (const encoding of ["gzip", "deflate"]) {
    it(`a ${encoding} body that does not inflate is 400, not 500`, async () => {
      expectMalformed(await request(app).post("/echo").set("Content-Type", "application/json").set("Content-Encoding", encoding).send('{"a":1}'));
    });
  }

  it("still accepts a real gzip body", async () => {
    // A Buffer goes out raw only under a non-JSON type (superagent would serialise it); the kit parses any type as JSON.
    const res = await request(app).post("/echo").set("Content-Type", "application/octet-stream").set("Content-Encoding", "gzip").send(gzipSync('{"a":1}'));
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal({ a: 1 });
  });
});
