// Front routes (front-routes.ts): answered ahead of Express, matched as Express matches a route,
// with the request id, the access log, the HTTP metrics and the error envelope every route gets.
import { expect } from "chai";
import request from "supertest";
import { ApiError } from "@twist/shared/errors";
import { createLogger } from "@twist/shared/logger";
import { createServiceApp, metricsAppOf, mountedRoutes } from "@twist/service";

describe("service kit: front routes", () => {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger("test", { level: "info", destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } });
  let answered = 0;
  const { app } = createServiceApp({
    service: "front",
    logger,
    readiness: {},
    frontRoutes: () => [
      {
        path: "/go/:to",
        handler: async (req, res) => {
          answered++;
          if (req.params.to === "nowhere") throw new ApiError("NOT_FOUND", "no such place");
          if (req.params.to === "boom") throw new Error("secret detail");
          res.writeHead(302, { Location: `https://example.com/${encodeURIComponent(req.params.to ?? "")}` });
          res.end();
        },
      },
    ],
    routes: (a) => {
      a.post("/go/:to", (_req, res) => {
        res.json({ posted: true });
      });
    },
  });
  const accessLines = (requestId: string) => lines.filter((l) => l.requestId === requestId && l.msg === "request");

  it("answers ahead of helmet and the rest of Express, keeping the request id and the access log line", async () => {
    const go = await request(app).get("/go/shop?utm=1").set("X-Request-Id", "front-1");
    expect(go.status).to.equal(302);
    expect(go.headers.location).to.equal("https://example.com/shop");
    expect(go.headers["x-request-id"]).to.equal("front-1");
    expect(go.headers["content-security-policy"]).to.equal(undefined);
    expect(go.text).to.equal("");
    expect((await request(app).get("/health")).headers["content-security-policy"]).to.be.a("string");
    // The path without its query (queries can carry tokens), once per request.
    expect(accessLines("front-1")).to.have.length(1);
    expect(accessLines("front-1")[0]).to.include({ method: "GET", path: "/go/shop", status: 302 });
    expect(accessLines("front-1")[0]!.ms).to.be.a("number");
    const generated = await request(app).get("/go/shop");
    expect(generated.headers["x-request-id"]).to.match(/^[0-9a-f-]{36}$/);
  });

  it("matches as Express does: any case, an optional trailing slash, a percent-decoded parameter", async () => {
    expect((await request(app).get("/GO/Shop")).headers.location).to.equal("https://example.com/Shop");
    expect((await request(app).get("/go/shop/")).headers.location).to.equal("https://example.com/shop");
    expect((await request(app).get("/go/a%20b")).headers.location).to.equal("https://example.com/a%20b");
  });

  it("a parameter that is not valid percent-encoding is a 400 envelope, and the handler never runs", async () => {
    const before = answered;
    const res = await request(app).get("/go/%E0%A4%A").set("X-Request-Id", "front-bad");
    expect(res.status).to.equal(400);
    expect(res.headers["content-type"]).to.equal("application/json; charset=utf-8");
    expect(res.body).to.deep.equal({ error: { code: "VALIDATION_ERROR", message: "the request is malformed", requestId: "front-bad", details: { reason: "MALFORMED_REQUEST" } } });
    expect(answered).to.equal(before);
  });

  it("errors are the envelope: an ApiError with its status, anything else a 500 that names nothing and is logged", async () => {
    const missing = await request(app).get("/go/nowhere").set("X-Request-Id", "front-404");
    expect(missing.status).to.equal(404);
    expect(missing.body).to.deep.equal({ error: { code: "NOT_FOUND", message: "no such place", requestId: "front-404" } });
    const boom = await request(app).get("/go/boom").set("X-Request-Id", "front-500");
    expect(boom.status).to.equal(500);
    expect(boom.body).to.deep.equal({ error: { code: "INTERNAL", message: "internal error", requestId: "front-500" } });
    expect(boom.text).not.to.include("secret detail");
    expect(lines.some((l) => l.requestId === "front-500" && l.msg === "unhandled error")).to.equal(true);
    expect(accessLines("front-500")[0]).to.include({ status: 500 });
  });

  it("HEAD is answered without a body; other methods and other paths go on to Express", async () => {
    const head = await request(app).head("/go/shop");
    expect(head.status).to.equal(302);
    expect(head.headers.location).to.equal("https://example.com/shop");
    const posted = await request(app).post("/go/shop").send({});
    expect(posted.status).to.equal(200);
    expect(posted.body).to.deep.equal({ posted: true });
    const deeper = await request(app).get("/go/a/b").set("X-Request-Id", "front-deeper");
    expect(deeper.status).to.equal(404);
    expect(deeper.body.error.message).to.equal("no route for GET /go/a/b");
  });

  it("counts in the HTTP metrics under its pattern, and is listed among the mounted routes", async () => {
    const metrics = (await request(metricsAppOf(app)).get("/metrics")).text;
    expect(metrics).to.match(/http_requests_total\{method="GET",route="\/go\/:to",status="302",service="front"\} \d+\n/);
    expect(metrics).to.match(/http_requests_total\{method="GET",route="\/go\/:to",status="404",service="front"\} 1\n/);
    expect(metrics).to.match(/http_requests_total\{method="HEAD",route="\/go\/:to",status="302",service="front"\} 1\n/);
    expect(
      mountedRoutes(app)
        .filter((r) => r.path === "/go/{to}")
        .map((r) => r.method),
    ).to.deep.equal(["GET", "POST"]);
  });
});
