// Robustness of the edge Worker: every route of the table runtime/edge/src/routes.ts exports gets
// hostile input (cases.ts) in real workerd; no answer may be 5xx and every error is the contract 6
// envelope with a 4xx status (probe.ts).
import { expect } from "chai";
import { randomUUID } from "node:crypto";
import { signJwt, signIdentityToken } from "@twist/shared/jwt";
import { signedHeaders } from "@twist/shared/signed-request";
import { startEdge, type RunningEdge } from "../../runtime/edge/local/miniflare";
import { ROUTES as EDGE_ROUTES } from "../../runtime/edge/src/routes";
import { BackendDouble, JWT_KEY_SET as EDGE_JWT_KEY_SET, TEST_SECRETS as EDGE_SECRETS, VAU_KEY, newWallet as newEdgeWallet, vauBody } from "../../runtime/edge/test/support";
import { PATH_VALUES, QUERY_VALUES, SQL, WRONG_METHODS, bodyCases, itemCases, probeFromBody } from "./cases";
import type { Schema } from "./openapi";
import { expectClean, runProbes, type Probe } from "./probe";

describe("fuzz: no server errors — edge Worker (every route of the table runtime/edge/src/routes.ts exports)", function () {
  this.timeout(60_000);
  const routes = EDGE_ROUTES;
  let edge: RunningEdge;
  const backend = new BackendDouble();
  let base: string;

  before(async () => {
    await backend.start();
    edge = await startEdge({
      vars: {
        ...EDGE_SECRETS,
        ENVIRONMENT: "staging",
        BACKEND_URL: backend.url,
        RATE_LIMIT_WALLET_PER_MINUTE: "1000",
        RATE_LIMIT_DEVICE_PER_MINUTE: "1000",
      },
    });
    base = edge.url.origin;
  });
  after(async () => {
    await edge?.stop();
    await backend.stop();
  });

  it("takes the routes from the Worker's own table", () => {
    expect(routes.map((r) => `${r.method} ${r.path}`)).to.include.members(["POST /api/v1/vau", "POST /api/v1/vau/batch", "GET /health"]);
    expect(routes.filter((r) => r.bodyLimitBytes).length).to.equal(2);
  });

  const sign = async (method: string, path: string, body: string | Buffer) => signedHeaders(method, path, body, VAU_KEY);

  for (const route of routes) {
    it(`${route.method} ${route.path}: never 5xx, errors are envelopes`, async function () {
      const wallet = newEdgeWallet();
      const token = (await signIdentityToken(wallet, EDGE_JWT_KEY_SET)).token;
      const auth = { Authorization: `Bearer ${token}` };
      const probes: Probe[] = [];
      const path = route.path;
      const isBatch = route.operation === "ingestBatch";
      const filler = () => (isBatch ? { vaus: [vauBody()] } : vauBody());

      if (route.bodyLimitBytes) {
        const text = JSON.stringify(filler());
        const sqlClaims = await signJwt({ sub: SQL, walletAddress: SQL, iss: "twist-auth", aud: "twist-api", exp: 9_999_999_999, iat: 1 }, EDGE_JWT_KEY_SET);
        probes.push({
          label: "SQL wallet claim",
          method: route.method,
          path,
          headers: { "Content-Type": "application/json", Authorization: `Bearer ${sqlClaims}`, ...(await sign(route.method, path, text)) },
          body: text,
          expect: "any",
        });
        probes.push({
          label: "alg none",
          method: route.method,
          path,
          headers: {
            "Content-Type": "application/json",
            Authorization: `Bearer ${await signJwt({ sub: wallet, walletAddress: wallet, iss: "twist-auth", aud: "twist-api", exp: 9_999_999_999 }, EDGE_JWT_KEY_SET, { alg: "none" })}`,
            ...(await sign(route.method, path, text)),
          },
          body: text,
          expect: "unauthorized",
        });
        probes.push({
          label: "no Authorization",
          method: route.method,
          path,
          headers: { "Content-Type": "application/json", ...(await sign(route.method, path, text)) },
          body: text,
          expect: "unauthorized",
        });
        probes.push({ label: "unsigned", method: route.method, path, headers: { "Content-Type": "application/json", ...auth }, body: text, expect: "unauthorized" });
        probes.push({
          label: "garbage token",
          method: route.method,
          path,
          headers: { "Content-Type": "application/json", Authorization: "Bearer a.b.c", ...(await sign(route.method, path, text)) },
          body: text,
          expect: "unauthorized",
        });
        probes.push({
          label: "huge signature",
          method: route.method,
          path,
          headers: { "Content-Type": "application/json", ...auth, "X-Timestamp": String(Date.now()), "X-Signature": `v1=${"f".repeat(5000)}` },
          body: text,
          expect: "unauthorized",
        });
        probes.push({
          label: "1e400 timestamp",
          method: route.method,
          path,
          headers: { "Content-Type": "application/json", ...auth, ...(await sign(route.method, path, text)), "X-Timestamp": "1e400" },
          body: text,
          expect: "unauthorized",
        });

        // Bodies: generic ones, then each field of a valid VAU (or of a batch item) made hostile.
        const sample = vauBody();
        const props: Record<string, Schema> = Object.fromEntries(Object.entries(sample).map(([k, v]) => [k, { type: typeof v === "number" ? "integer" : "string" }]));
        const cases = bodyCases(isBatch ? { vaus: { type: "array" } } : { ...props, payload: { type: "object" } }, isBatch ? { vaus: [sample] } : sample, route.bodyLimitBytes, true);
        if (isBatch) cases.push(...itemCases("vaus", () => vauBody()));
        for (const c of cases) {
          // The Worker reads the raw bytes as UTF-8 JSON whatever Content-Type or Content-Encoding claim
          // (the signature covers those bytes): a mislabelled but valid body may be accepted.
          if (c.contentType || c.encoding) c.reject = false;
          // A fresh VAU identity per probe, so acceptable ones are never 409 duplicates of each other.
          const text = c.text.replace(/"device-(\d+)-(\d+)"/g, () => JSON.stringify(`device-${randomUUID()}`));
          const probe = probeFromBody(route, path, { ...auth, ...(await sign(route.method, path, text)) }, { ...c, text });
          probes.push(probe);
        }
        for (const q of QUERY_VALUES("x").slice(0, 8)) {
          const p = `${path}?${q}`;
          const text = JSON.stringify(filler());
          probes.push({
            label: `query ${q.slice(0, 30)}`,
            method: route.method,
            path: p,
            headers: { "Content-Type": "application/json", ...auth, ...(await sign(route.method, p, text)) },
            body: text,
            expect: "any",
          });
        }
      } else {
        for (const q of QUERY_VALUES("x")) probes.push({ label: `query ${q.slice(0, 30)}`, method: route.method, path: `${path}?${q}`, headers: auth, expect: "any" });
        probes.push({ label: "body on a GET route", method: "POST", path, headers: { "Content-Type": "application/json" }, body: "{", expect: "reject" });
      }
      // Paths under and beside the route, and a method it does not have.
      for (const value of PATH_VALUES) probes.push({ label: "hostile sub-path", method: route.method, path: `${path}/${value}`, headers: auth, expect: "reject" });
      const other = WRONG_METHODS.find((m) => !routes.some((r) => r.path === path && r.method === m))!;
      probes.push({ label: "wrong method", method: other, path, headers: auth, expect: "reject" });
      probes.push({ label: "hostile X-Request-Id", method: route.method, path, headers: { ...auth, "X-Request-Id": "../\u00e9".repeat(30) }, expect: "any" });
      expectClean(await runProbes(this, base, probes), probes);
    });
  }
});
