// One source for request validation: the Joi schemas each route validates with (validateRequest)
// are the request schemas of its operation in the OpenAPI document the service serves. What that
// served document forbids is refused with the contract 6 envelope (400 VALIDATION_ERROR naming the
// field), what it allows at a boundary is not refused for it, and a document that restates, or
// leaves out, what a route validates is an error rather than a second truth.
import { expect } from "chai";
import yaml from "js-yaml";
import Joi from "joi";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import request from "supertest";
import type { Express } from "express";
import { createServiceApp, jsonSchemaOf, mountedRoutes, validateRequest, withRequestSchemas, type ApiDocs, type OpenApiDocument } from "@twist/service";
import { createLogger } from "@twist/shared/logger";
import { signedHeaders } from "@twist/shared/signed-request";
import { startService, type TestService } from "../../runtime/auth/test/support";
import { MERCHANT_KEY, newInfluencer, newUser, startHarness, type Harness } from "../../runtime/influencer/test/harness";
import { deleteRedisPrefix } from "../support/redis";
import { ROOT } from "../support/bundle";

type Node = Record<string, any>;

const committed = (name: string) => yaml.load(readFileSync(join(ROOT, "docs", "api", `${name}.yaml`), "utf8")) as OpenApiDocument;
const swaggerUiDir = dirname(createRequire(__filename).resolve("swagger-ui-dist/package.json"));
const docsOf = (name: string): ApiDocs => ({ spec: committed(name), swaggerUiDir });
const silent = createLogger("request-schemas-test", { level: "silent" });

interface Violation {
  label: string;
  field: string;
  path: string;
  query?: string;
  body?: unknown;
}

/** A value the schema refuses, derived from the schema alone (undefined where it names no bound). */
function outside(s: Node): unknown[] {
  const out: unknown[] = [];
  if (s.maximum !== undefined) out.push(s.maximum + 1);
  if (s.minimum !== undefined) out.push(s.minimum - 1);
  if (s.maxLength !== undefined) out.push("a".repeat(s.maxLength + 1));
  if (s.enum) out.push("not-a-member");
  if (s.pattern && !new RegExp(s.pattern, "u").test("!")) out.push("!");
  if (s.type === "string" && !s.enum) out.push(12345);
  return out;
}

/** Requests the served document forbids, one field at a time, for every operation the routes validate. */
function violations(doc: Node, app: Express, pathValue: (name: string) => string): { op: string; method: string; cases: Violation[] }[] {
  const resolve = (s: Node): Node =>
    s?.$ref
      ? resolve(
          s.$ref
            .slice(2)
            .split("/")
            .reduce((n: Node, k: string) => n[k], doc),
        )
      : s;
  return mountedRoutes(app)
    .filter((r) => r.schemas)
    .map(({ method, path: template }) => {
      const op = doc.paths[template][method.toLowerCase()] as Node;
      const params = ((op.parameters ?? []) as Node[]).map(resolve);
      const fill = (over: Record<string, string> = {}) => template.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(over[name] ?? pathValue(name)));
      const cases: Violation[] = [];
      for (const p of params.filter((x) => x.in === "path")) {
        for (const v of outside(resolve(p.schema)).filter((x) => typeof x === "string"))
          cases.push({ label: `path ${p.name}=${String(v).slice(0, 12)}`, field: p.name, path: fill({ [p.name]: String(v) }) });
      }
      for (const p of params.filter((x) => x.in === "query")) {
        for (const v of outside(resolve(p.schema)).filter((x) => typeof x !== "number" || resolve(p.schema).type !== "string")) {
          cases.push({ label: `query ${p.name}=${String(v).slice(0, 12)}`, field: p.name, path: fill(), query: `${p.name}=${encodeURIComponent(String(v))}` });
        }
      }
      const body = op.requestBody ? resolve(op.requestBody.content["application/json"].schema) : undefined;
      if (body?.anyOf) cases.push({ label: "body matching no alternative", field: "(body)", path: fill(), body: { zzUnexpected: 1 } });
      if (body?.type === "object") {
        cases.push({ label: "unknown body property", field: "zzUnexpected", path: fill(), body: { zzUnexpected: 1 } });
        for (const name of body.required ?? []) cases.push({ label: `body without ${name}`, field: name, path: fill(), body: {} });
        for (const [name, prop] of Object.entries(body.properties as Record<string, Node>)) {
          for (const v of outside(resolve(prop))) cases.push({ label: `body ${name}=${JSON.stringify(v).slice(0, 14)}`, field: name, path: fill(), body: { [name]: v } });
        }
      }
      return { op: `${method} ${template}`, method, cases };
    });
}

async function send(app: Express, method: string, v: Violation, headers: Record<string, string>, sign?: string) {
  const target = v.query ? `${v.path}?${v.query}` : v.path;
  const text = v.body === undefined ? undefined : JSON.stringify(v.body);
  const signed = sign ? await signedHeaders(method, target, text ?? "", sign) : {};
  let req = (request(app) as unknown as Record<string, (p: string) => request.Test>)[method.toLowerCase()]!(target).set({ ...headers, ...signed });
  if (text !== undefined) req = req.set("Content-Type", "application/json").send(text);
  return req;
}

function expectRefused(res: request.Response, v: Violation, where: string) {
  const what = `${where} ${v.label}: ${res.status} ${res.text.slice(0, 300)}`;
  expect(res.status, what).to.equal(400);
  expect(res.body.error.code, what).to.equal("VALIDATION_ERROR");
  expect(res.body.error.requestId, what).to.equal(res.headers["x-request-id"]);
  expect(
    (res.body.error.details as { field: string }[]).map((d) => d.field),
    what,
  ).to.include(v.field);
}

describe("request validation: the routes' Joi schemas are the served OpenAPI request schemas", function () {
  this.timeout(120_000);
  let auth: TestService;
  let h: Harness;
  let owner: Awaited<ReturnType<typeof newInfluencer>>;

  before(async () => {
    auth = await startService("reqschemas", {}, undefined, { apiDocs: docsOf("auth") });
    h = await startHarness("reqschemas", {}, { apiDocs: docsOf("influencer") });
    owner = await newInfluencer(h);
  });
  after(async () => {
    await auth?.close();
    await h?.close();
  });

  const served = async (app: Express) => (await request(app).get("/openapi.json").expect(200)).body as Node;

  for (const [name, minimum] of [
    ["auth", 2],
    ["influencer", 20],
  ] as const) {
    it(`${name}: every validating route's parameters and body in /openapi.json are its Joi schemas, and docs/api/${name}.yaml states none of them`, async () => {
      const app = name === "auth" ? auth.app : h.app;
      const doc = await served(app);
      const yamlDoc = committed(name) as Node;
      const validating = mountedRoutes(app).filter((r) => r.schemas);
      expect(validating.length).to.be.at.least(minimum);
      for (const { method, path, schemas } of validating) {
        const op = doc.paths[path][method.toLowerCase()];
        const plain = yamlDoc.paths[path][method.toLowerCase()];
        const where = `${method} ${path}`;
        if (schemas!.body) {
          expect(op.requestBody.content["application/json"].schema, where).to.deep.equal(jsonSchemaOf(schemas!.body).schema);
          expect(plain.requestBody, `${where} in the yaml`).to.equal(undefined);
        }
        for (const part of ["params", "query"] as const) {
          const keys = Object.keys((jsonSchemaOf(schemas![part] ?? Joi.object()).schema.properties ?? {}) as object);
          const inPart = part === "params" ? "path" : "query";
          expect(
            (op.parameters ?? []).filter((p: Node) => p.in === inPart).map((p: Node) => p.name),
            where,
          ).to.include.members(keys);
          expect(
            (plain.parameters ?? []).filter((p: Node) => p.in === inPart),
            `${where} in the yaml`,
          ).to.deep.equal([]);
        }
      }
    });
  }

  it("auth: each request the served document forbids is 400 VALIDATION_ERROR naming the field", async () => {
    const ops = violations(await served(auth.app), auth.app, () => "x");
    expect(ops.map((o) => o.op)).to.have.members(["POST /auth/nonce", "POST /auth/verify"]);
    for (const { op, method, cases } of ops) {
      expect(cases.length, op).to.be.greaterThan(3);
      for (const v of cases) expectRefused(await send(auth.app, method, v, {}), v, op);
    }
  });

  it("influencer: each request the served document forbids is 400 VALIDATION_ERROR naming the field", async () => {
    const ops = violations(await served(h.app), h.app, (param) => (param === "id" ? "00000000-0000-4000-8000-000000000000" : param === "code" ? "AAAAAAAAAA" : owner.username));
    expect(ops.length).to.be.at.least(20);
    // Registration is validated for a wallet that is not registered yet.
    const stranger = await newUser();
    let probed = 0;
    for (const { op, method, cases } of ops) {
      expect(cases.length, op).to.be.greaterThan(0);
      const headers = op === "POST /api/v1/influencers" ? stranger.auth : owner.auth;
      for (const v of cases) {
        await deleteRedisPrefix(`${h.prefix}rl:`);
        expectRefused(await send(h.app, method, v, headers, op === "POST /api/v1/conversions" ? MERCHANT_KEY : undefined), v, op);
        probed++;
      }
    }
    expect(probed).to.be.greaterThan(100);
  });

  it("influencer: a query value at a bound the document states is not refused for that parameter", async () => {
    const doc = await served(h.app);
    let probed = 0;
    for (const { method, path, schemas } of mountedRoutes(h.app)) {
      if (!schemas?.query || path.includes("{")) continue;
      for (const p of doc.paths[path][method.toLowerCase()].parameters.filter((x: Node) => x.in === "query")) {
        for (const bound of [p.schema.minimum, p.schema.maximum, ...(p.schema.enum ?? [])].filter((b) => b !== undefined)) {
          const res = await request(h.app)
            [method.toLowerCase() as "get"](`${path}?${p.name}=${encodeURIComponent(String(bound))}`)
            .set(owner.auth);
          const fields = res.status === 400 ? (res.body.error.details as { field: string }[]).map((d) => d.field) : [];
          expect(fields, `${path}?${p.name}=${bound}: ${res.status} ${res.text.slice(0, 200)}`).not.to.include(p.name);
          probed++;
        }
      }
    }
    expect(probed).to.be.greaterThan(10);
  });

  describe("the document cannot drift from the validation", () => {
    function kitApp(schema: Joi.ObjectSchema | undefined, spec: OpenApiDocument): Express {
      return createServiceApp({
        service: "kit",
        logger: silent,
        readiness: {},
        apiDocs: { spec, swaggerUiDir },
        routes: (app) => {
          const handlers = schema ? [validateRequest({ body: schema })] : [];
          app.post("/things", ...handlers, (req, res) => {
            res.json({ accepted: req.valid?.body ?? null });
          });
        },
      }).app;
    }
    const thingsSpec = (): OpenApiDocument => ({
      openapi: "3.1.0",
      info: { title: "kit", version: "1" },
      paths: { "/things": { post: { responses: { "200": { description: "ok" } } } } },
    });

    it("changing a route's Joi schema changes both what the document says and what is refused", async () => {
      for (const max of [5, 7]) {
        const app = kitApp(Joi.object({ name: Joi.string().max(max).required() }).required(), thingsSpec());
        const doc = await served(app);
        expect(doc.paths["/things"].post.requestBody.content["application/json"].schema.properties.name.maxLength).to.equal(max);
        expect(
          (
            await request(app)
              .post("/things")
              .send({ name: "a".repeat(max) })
          ).status,
        ).to.equal(200);
        expectRefused(
          await request(app)
            .post("/things")
            .send({ name: "a".repeat(max + 1) }),
          { label: `max ${max}`, field: "name", path: "/things" },
          "kit",
        );
      }
    });

    it("a route without validateRequest has no request schema in the document", async () => {
      const doc = await served(kitApp(undefined, thingsSpec()));
      expect(doc.paths["/things"].post.requestBody).to.equal(undefined);
    });

    it("a document that restates what a route validates is refused: body (auth) and query parameter (influencer)", () => {
      const authDoc = committed("auth") as Node;
      authDoc.paths["/auth/nonce"].post.requestBody = { content: { "application/json": { schema: { type: "object" } } } };
      expect(() => withRequestSchemas(authDoc, auth.app)).to.throw("POST /auth/nonce restates its request body");
      const influencerDoc = committed("influencer") as Node;
      influencerDoc.paths["/api/v1/links"].get.parameters = [{ name: "limit", in: "query", schema: { type: "integer" } }];
      expect(() => withRequestSchemas(influencerDoc, h.app)).to.throw("GET /api/v1/links restates query parameter limit");
    });

    it("a validating route the document leaves out is refused", () => {
      const authDoc = committed("auth") as Node;
      delete authDoc.paths["/auth/verify"];
      expect(() => withRequestSchemas(authDoc, auth.app)).to.throw("POST /auth/verify validates its input but is not documented");
    });
  });
});
