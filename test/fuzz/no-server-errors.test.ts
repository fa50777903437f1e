// Cross-cutting robustness: every route of the three services, taken from the real sources (the
// OpenAPI documents of auth and influencer, the route table the edge Worker exports), gets hostile
// input. No answer may be 5xx; every error is the contract 6 envelope with a 4xx status; input that
// can never be acceptable (malformed JSON, wrong top-level type, too large, wrong field types) must
// be refused. A valid influencer reaching another user's resource by path id gets 403/404.
import { expect } from "chai";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import yaml from "js-yaml";
import request from "supertest";
import { signJwt, signIdentityToken } from "@twist/shared/jwt";
import { parseJwtKeySet, type JwtKeySet } from "@twist/shared/keys";
import { signedHeaders } from "@twist/shared/signed-request";
import { BODY_LIMIT_BYTES as AUTH_BODY_LIMIT } from "../../runtime/auth/src/app";
import { newWallet as newAuthWallet, startService, JWT_KEYS as AUTH_JWT_KEYS, type TestService } from "../../runtime/auth/test/support";
import { startEdge, type RunningEdge } from "../../runtime/edge/local/miniflare";
import { ROUTES as EDGE_ROUTES } from "../../runtime/edge/src/routes";
import { deleteRedisPrefix } from "../support/redis";
import { BackendDouble, JWT_KEY_SET as EDGE_JWT_KEY_SET, TEST_SECRETS as EDGE_SECRETS, VAU_KEY, newWallet as newEdgeWallet, vauBody } from "../../runtime/edge/test/support";
import { fund, rewardMessage } from "../../runtime/influencer/test/money-helpers";
import {
  JWT_KEY_SET as INFLUENCER_JWT_KEY_SET,
  MERCHANT_DOMAIN,
  MERCHANT_KEY,
  SERVICE_KEY,
  newInfluencer,
  newLink,
  newUser,
  startHarness,
  type Harness,
} from "../../runtime/influencer/test/part1-helpers";

const ROOT = join(__dirname, "..", "..");
/** The influencer service keeps the service kit's default body limit (runtime/service/src/body.ts). */
const INFLUENCER_BODY_LIMIT = 64 * 1024;
const CONCURRENCY = 8;

// ---------------------------------------------------------------------------------------------
// Probes and the one check every answer must pass
// ---------------------------------------------------------------------------------------------

/** What the answer to a probe must be besides "never 5xx, errors are envelopes". */
type Expectation = "any" | "reject" | "unauthorized";

interface Probe {
  label: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  /** Sent verbatim (superagent would re-encode a Buffer as JSON). */
  body?: string;
  expect: Expectation;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

async function send(target: Server | string, probe: Probe): Promise<Answer> {
  const agent = request(target) as unknown as Record<string, (path: string) => request.Test>;
  let req = agent[probe.method.toLowerCase()]!(probe.path);
  for (const [name, value] of Object.entries(probe.headers)) req = req.set(name, value);
  if (probe.body !== undefined) req = req.send(probe.body);
  const res = await req.buffer(true).parse((r, done) => {
    const chunks: Buffer[] = [];
    r.on("data", (c: Buffer) => chunks.push(c));
    r.on("end", () => done(null, Buffer.concat(chunks).toString("utf8")));
  });
  return { status: res.status, headers: res.headers as Answer["headers"], text: res.body as string };
}

const ENVELOPE_CODES: Record<string, number[]> = {
  VALIDATION_ERROR: [400],
  UNAUTHORIZED: [401],
  FORBIDDEN: [403],
  NOT_FOUND: [404],
  CONFLICT: [409],
  RATE_LIMITED: [429],
};

/** Returns what is wrong with the answer, or null. */
function violation(probe: Probe, answer: Answer): string | null {
  const { status } = answer;
  if (status >= 500) return `${status} ${answer.text.slice(0, 200)}`;
  if (status < 400) {
    if (probe.expect !== "any") return `${status} although the input must be refused`;
    // Per-item answers of a batch (reward deliveries, VAU batches) must not hide a server error either.
    if (/"status":\s*(?:"failed"|5\d\d)/.test(answer.text)) return `${status} with an item that failed on the server: ${answer.text.slice(0, 200)}`;
    return null;
  }
  if (probe.expect === "unauthorized" && status !== 401) return `${status} instead of 401 without credentials`;
  if (probe.method === "HEAD") return null;
  const type = String(answer.headers["content-type"] ?? "");
  if (!/^application\/json/.test(type)) return `${status} with content-type "${type}": ${answer.text.slice(0, 120)}`;
  let body: unknown;
  try {
    body = JSON.parse(answer.text);
  } catch {
    return `${status} with a body that is not JSON: ${answer.text.slice(0, 120)}`;
  }
  const top = body as { error?: Record<string, unknown> };
  if (!top || typeof top !== "object" || Object.keys(top).join() !== "error" || !top.error || typeof top.error !== "object") {
    return `${status} without the envelope: ${answer.text.slice(0, 200)}`;
  }
  const e = top.error;
  const extra = Object.keys(e).filter((k) => !["code", "message", "requestId", "details"].includes(k));
  if (typeof e.code !== "string" || typeof e.message !== "string" || typeof e.requestId !== "string" || extra.length) {
    return `${status} with a malformed envelope: ${answer.text.slice(0, 200)}`;
  }
  if (e.requestId !== answer.headers["x-request-id"]) return `envelope requestId ${String(e.requestId)} differs from X-Request-Id ${String(answer.headers["x-request-id"])}`;
  const statuses = ENVELOPE_CODES[e.code];
  if (statuses && !statuses.includes(status)) return `${e.code} with status ${status}`;
  if (/\n\s+at |node_modules|\.ts:\d+/.test(answer.text)) return `${status} leaks a stack trace: ${answer.text.slice(0, 200)}`;
  return null;
}

/**
 * The test's time bound, per probe: a route's probes number in the hundreds and a loaded machine
 * answers each slowly, so a fixed timeout for the whole route failed there. Far above what one
 * request takes even under load; a server that stops answering still fails the test.
 */
const MS_PER_PROBE = 1000;

/** Sends every probe (bounded concurrency) within a bound that grows with their number; returns the violations, one line each. */
async function runProbes(test: Mocha.Context, target: Server | string, probes: Probe[], onRateLimited?: () => Promise<void>): Promise<string[]> {
  test.timeout(Math.max(30_000, probes.length * MS_PER_PROBE));
  const problems: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < probes.length) {
      const probe = probes[next++]!;
      let problem: string | null;
      try {
        let ans = await send(target, probe);
        // A limiter (e.g. verify-email per IP) would hide later probes behind 429: reset it and resend once.
        if (ans.status === 429 && onRateLimited) {
          const limited = violation(probe, ans);
          if (limited) problems.push(`${probe.method} ${probe.path.slice(0, 100)} [${probe.label}]: ${limited}`);
          await onRateLimited();
          ans = await send(target, probe);
        }
        problem = violation(probe, ans);
      } catch (err) {
        problem = `request failed: ${(err as Error).message}`;
      }
      if (problem) problems.push(`${probe.method} ${probe.path.slice(0, 100)} [${probe.label}]: ${problem}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return problems;
}

function expectClean(problems: string[], probes: Probe[]): void {
  expect(probes.length, "no probes were generated").to.be.greaterThan(0);
  expect(problems, `${problems.length} of ${probes.length} probes misbehaved:\n${problems.join("\n")}`).to.deep.equal([]);
  // The services run in this process: a prototype-pollution key reaching Object.prototype shows here.
  expect(({} as Record<string, unknown>).polluted, "Object.prototype was polluted").to.equal(undefined);
}

// ---------------------------------------------------------------------------------------------
// Routes from the OpenAPI documents
// ---------------------------------------------------------------------------------------------

type Schema = Record<string, any>;

interface Route {
  method: string;
  template: string;
  bearer: boolean;
  signed: boolean;
  idempotent: boolean;
  pathParams: string[];
  queryParams: Schema[];
  bodySchema?: Schema;
  bodyRequired: boolean;
}

function openApiRoutes(file: string): { routes: Route[]; resolve: (s: Schema | undefined) => Schema | undefined } {
  const doc = yaml.load(readFileSync(join(ROOT, file), "utf8")) as Schema;
  const resolve = (s: Schema | undefined): Schema | undefined => {
    if (!s || typeof s.$ref !== "string") return s;
    const target = (s.$ref as string).replace(/^#\//, "").split("/").reduce((node: Schema, key: string) => node?.[key], doc);
    return resolve(target);
  };
  const routes: Route[] = [];
  for (const [template, item] of Object.entries(doc.paths as Record<string, Schema>)) {
    const shared = (item.parameters ?? []) as Schema[];
    for (const [method, op] of Object.entries(item)) {
      if (method === "parameters" || method === "servers") continue; // path-level fields, not operations
      const params = [...shared, ...((op.parameters ?? []) as Schema[])].map((p) => resolve(p)!);
      const security = (op.security ?? doc.security ?? []) as Schema[];
      const headers = params.filter((p) => p.in === "header").map((p) => String(p.name).toLowerCase());
      const body = op.requestBody?.content?.["application/json"]?.schema as Schema | undefined;
      routes.push({
        method: method.toUpperCase(),
        template,
        bearer: security.some((s) => "bearer" in s),
        signed: headers.includes("x-signature"),
        idempotent: headers.includes("idempotency-key"),
        pathParams: params.filter((p) => p.in === "path").map((p) => p.name as string),
        queryParams: params.filter((p) => p.in === "query"),
        bodySchema: body,
        bodyRequired: Boolean(op.requestBody?.required),
      });
    }
  }
  return { routes, resolve };
}

// ---------------------------------------------------------------------------------------------
// Hostile values
// ---------------------------------------------------------------------------------------------

const SQL = "' OR '1'='1'; DROP TABLE users; --";
const HOSTILE_STRINGS: unknown[] = ["", " ", "\u0000", "a\u0000b", "\u202Eevil\u202C\u200F", "名前😀\uFEFF", "\uD800", SQL, "../../../etc/passwd", "__proto__", "constructor", "%00", "<script>alert(1)</script>", "${jndi:ldap://x}"];
const NOT_STRINGS: unknown[] = [12345, -1, 1.5, 0, true, false, null, { $gt: "" }, ["a"], [], {}, { toString: "x" }];
const NOT_INTEGERS: unknown[] = ["5", "1e3", -1, 1.5, 1e308, "abc", null, [], {}, true, "9".repeat(400)];
const AMOUNTS: unknown[] = ["0", "-1", "01", "1.5", "1e9", " 1", "0x10", "9".repeat(39), "1" + "0".repeat(39), "9".repeat(40), "9".repeat(100), 1000, 1e21];
/** Raw JSON number texts that JSON.stringify cannot produce. */
const RAW_NUMBERS = ["1e400", "-1e400", "9007199254740993", "1E-400", "-0"];

const PATH_VALUES: string[] = [
  "a".repeat(5000),
  "%00",
  "a%00b",
  "..",
  "%2e%2e",
  "..%2f..%2fetc%2fpasswd",
  "%FF",
  "%ED%A0%80",
  "%",
  "%E2%80%AE",
  encodeURIComponent("名前😀"),
  encodeURIComponent(SQL),
  "__proto__",
  "constructor",
  "-1",
  "1e400",
  "00000000-0000-0000-0000-000000000000",
  "%20",
];

const QUERY_VALUES = (name: string): string[] => [
  `${name}=1&${name}=2`,
  `${name}[]=1`,
  `${name}[__proto__][polluted]=1`,
  `${name}=99999999999999999999999999999`,
  `${name}=-1`,
  `${name}=-99999999999`,
  `${name}=1e400`,
  `${name}=NaN`,
  `${name}=%00`,
  `${name}=${encodeURIComponent(SQL)}`,
  `${name}=%E2%80%AE${encodeURIComponent("名前")}`,
  `${name}=%FF`,
  `${name}=${"a".repeat(5000)}`,
  `${name}=`,
];

/** A plausible value for a documented body property (so other fields do not hide the one probed). */
const FILLERS: Record<string, unknown> = {
  walletAddress: "11111111111111111111111111111111",
  message: "hello",
  signature: "1".repeat(64),
  username: "fuzz_user",
  displayName: "Fuzz",
  email: "fuzz@example.com",
  token: "A".repeat(43),
  targetUrl: `https://${MERCHANT_DOMAIN}/p/1`,
  orderId: "order-1",
  amount: "1000",
  currency: "TWIST",
  name: "Fuzz pool",
  revenueShareBps: 100,
  minStake: "1000",
};

function propertiesOf(schema: Schema | undefined, resolve: (s: Schema | undefined) => Schema | undefined): Record<string, Schema> {
  const s = resolve(schema);
  const out: Record<string, Schema> = {};
  for (const [name, prop] of Object.entries((s?.properties ?? {}) as Record<string, Schema>)) out[name] = resolve(prop)!;
  return out;
}

function fillerBody(props: Record<string, Schema>, required: string[]): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const name of required) body[name] = FILLERS[name] ?? (props[name]?.type === "integer" ? 1 : props[name]?.type === "array" ? [] : "x");
  return body;
}

interface BodyCase {
  label: string;
  text: string;
  contentType?: string;
  encoding?: string;
  reject: boolean;
}

/** Bodies for a route: generic malformed ones plus, per documented property, wrong types and hostile values. */
function bodyCases(props: Record<string, Schema>, filler: Record<string, unknown>, limit: number, hasSchema: boolean): BodyCase[] {
  const fillerText = JSON.stringify(filler);
  const withRaw = (key: string, raw: string) => JSON.stringify({ ...filler, [key]: "__RAW__" }).replace('"__RAW__"', raw);
  const cases: BodyCase[] = [
    { label: "array", text: "[]", reject: hasSchema },
    { label: "array of filler", text: `[${fillerText}]`, reject: hasSchema },
    { label: "string", text: '"str"', reject: true },
    { label: "number", text: "123", reject: true },
    { label: "null", text: "null", reject: true },
    { label: "true", text: "true", reject: true },
    { label: "truncated JSON", text: '{"a":', reject: true },
    { label: "single quotes", text: "{'a':1}", reject: true },
    { label: "two documents", text: `${fillerText}{"b":2}`, reject: true },
    { label: "trailing comma", text: '{"a":1,}', reject: true },
    { label: "BOM", text: `\uFEFF${fillerText}`, reject: false },
    { label: "empty with JSON type", text: "", reject: false },
    { label: "deep nesting", text: "[".repeat(3000) + "]".repeat(3000), reject: hasSchema },
    { label: "__proto__ key", text: `{"__proto__":{"polluted":true},${fillerText.slice(1)}`, reject: false },
    { label: "constructor.prototype key", text: `{"constructor":{"prototype":{"polluted":true}},${fillerText.slice(1)}`, reject: hasSchema },
    { label: "duplicate keys", text: `{"a":1,"a":2,${fillerText.slice(1)}`, reject: hasSchema },
    { label: "text/plain", text: fillerText, contentType: "text/plain", reject: false },
    { label: "form encoded", text: "a=1&b=2", contentType: "application/x-www-form-urlencoded", reject: true },
    { label: "multipart", text: '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--\r\n', contentType: "multipart/form-data; boundary=x", reject: true },
    { label: "octet-stream", text: fillerText, contentType: "application/octet-stream", reject: false },
    { label: "charset utf-16", text: fillerText, contentType: "application/json; charset=utf-16", reject: true },
    { label: "charset bogus", text: fillerText, contentType: "application/json; charset=bogus-1", reject: true },
    { label: "gzip garbage", text: fillerText, encoding: "gzip", reject: true },
    { label: "deflate garbage", text: fillerText, encoding: "deflate", reject: true },
    { label: "unknown encoding", text: fillerText, encoding: "bogus", reject: true },
    { label: "just under the body limit", text: JSON.stringify({ ...filler, pad: "a".repeat(limit - fillerText.length - 20) }), reject: hasSchema },
    { label: "just over the body limit", text: JSON.stringify({ ...filler, pad: "a".repeat(limit) }), reject: true },
    { label: "NUL and RTL keys", text: JSON.stringify({ ...filler, "\u0000": 1, "\u202E": 2 }), reject: hasSchema },
  ];
  for (const [name, prop] of Object.entries(props)) {
    const type = prop.type;
    const isAmount = typeof prop.pattern === "string" && prop.pattern.startsWith("^[1-9][0-9]");
    const values: { v: unknown; reject: boolean }[] = [];
    if (type === "string" || isAmount) {
      for (const v of NOT_STRINGS) values.push({ v, reject: !isAmount });
      for (const v of HOSTILE_STRINGS) values.push({ v, reject: false });
      values.push({ v: "a".repeat((prop.maxLength as number | undefined) ?? 1000) + "a", reject: prop.maxLength !== undefined });
      values.push({ v: "a".repeat(limit - fillerText.length - 50), reject: true });
      if (isAmount) for (const v of AMOUNTS) values.push({ v, reject: false });
    } else if (type === "integer" || type === "number") {
      for (const v of NOT_INTEGERS) values.push({ v, reject: false });
    } else if (type === "array") {
      for (const v of [{}, "x", 1, null, [null], [[]], [1, 2], ["__proto__"], Array.from({ length: 101 }, () => ({}))]) values.push({ v, reject: false });
    } else {
      for (const v of [...NOT_STRINGS.slice(0, 8), ...HOSTILE_STRINGS.slice(0, 8)]) values.push({ v, reject: false });
    }
    for (const { v, reject } of values) {
      const shown = typeof v === "string" && v.length > 40 ? `${v.length}-char string` : JSON.stringify(v);
      cases.push({ label: `${name}=${shown}`, text: JSON.stringify({ ...filler, [name]: v }), reject });
    }
    for (const raw of RAW_NUMBERS) cases.push({ label: `${name}=${raw} (raw)`, text: withRaw(name, raw), reject: type === "string" && !isAmount });
    cases.push({ label: `${name} alone as __proto__`, text: `{"__proto__":{"${name}":"x","polluted":true}}`, reject: false });
  }
  return cases;
}

/** Batch items (reward messages, VAUs): a valid sample with one field at a time made hostile. */
function itemCases(arrayName: string, sample: () => Record<string, unknown>): BodyCase[] {
  const cases: BodyCase[] = [];
  for (const [name, value] of Object.entries(sample())) {
    const hostile = typeof value === "number" ? NOT_INTEGERS : [...NOT_STRINGS.slice(0, 8), ...HOSTILE_STRINGS, ...AMOUNTS.slice(6, 11)];
    for (const v of [...hostile, undefined]) {
      const item = { ...sample(), [name]: v };
      if (v === undefined) delete item[name];
      const shown = typeof v === "string" && v.length > 30 ? `${v.length}-char string` : v === undefined ? "missing" : JSON.stringify(v);
      cases.push({ label: `${arrayName}[0].${name}=${shown}`, text: JSON.stringify({ [arrayName]: [item] }), reject: false });
    }
  }
  return cases;
}

function probeFromBody(route: { method: string }, path: string, headers: Record<string, string>, c: BodyCase): Probe {
  const h: Record<string, string> = { ...headers };
  h["Content-Type"] = c.contentType ?? "application/json";
  if (c.encoding) h["Content-Encoding"] = c.encoding;
  return { label: c.label, method: route.method, path, headers: h, body: c.text, expect: c.reject ? "reject" : "any" };
}

const WRONG_METHODS = ["PUT", "DELETE", "PATCH", "POST", "GET"];

// ---------------------------------------------------------------------------------------------
// Probes for one documented route of an Express service
// ---------------------------------------------------------------------------------------------

interface ServiceUnderTest {
  limit: number;
  keySet: JwtKeySet;
  token: string;
  /** Valid path parameter values, by route template and parameter name. */
  pathValue(template: string, param: string): string;
  /** Signing key of a signed route. */
  signingKey(template: string): string;
  resolve: (s: Schema | undefined) => Schema | undefined;
  allMethods(template: string): string[];
  /** A valid item of an array body property (e.g. a reward message), when the route has one. */
  itemSample?(property: string): (() => Record<string, unknown>) | undefined;
}

function fillPath(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_m, name: string) => values[name]!);
}

async function signIfNeeded(route: Route, svc: ServiceUnderTest, path: string, headers: Record<string, string>, body: string | Buffer = ""): Promise<Record<string, string>> {
  if (!route.signed) return headers;
  return { ...headers, ...(await signedHeaders(route.method, path, body, svc.signingKey(route.template))) };
}

async function routeProbes(route: Route, svc: ServiceUnderTest): Promise<Probe[]> {
  const probes: Probe[] = [];
  const validParams = Object.fromEntries(route.pathParams.map((p) => [p, svc.pathValue(route.template, p)]));
  const path = fillPath(route.template, validParams);
  const auth: Record<string, string> = route.bearer ? { Authorization: `Bearer ${svc.token}` } : {};
  const idem = (): Record<string, string> => (route.idempotent ? { "Idempotency-Key": `fuzz-${randomUUID()}` } : {});
  const hasBody = route.method !== "GET" && route.method !== "HEAD";
  const props = propertiesOf(route.bodySchema, svc.resolve);
  const required = ((svc.resolve(route.bodySchema)?.required ?? []) as string[]).filter((r) => r in props);
  const filler = JSON.stringify(fillerBody(props, required));

  // Credentials missing or hostile.
  if (route.bearer) {
    const wallet = newAuthWallet().address;
    const hostileTokens: [string, string][] = [
      ["Bearer", "empty bearer"],
      ["Bearer garbage", "garbage token"],
      ["Bearer a.b.c", "three dots"],
      [`Basic ${Buffer.from("a:b").toString("base64")}`, "basic auth"],
      [`Bearer ${await signJwt({ sub: wallet, walletAddress: wallet, iss: "twist-auth", aud: "twist-api", exp: 9_999_999_999 }, svc.keySet, { alg: "none" })}`, "alg none"],
      [`Bearer ${(await signIdentityToken(wallet, parseJwtKeySet("other:some-other-secret-000000000000"))).token}`, "foreign key"],
      [`Bearer ${await signJwt({ sub: { $ne: 1 }, walletAddress: ["x"], iss: "twist-auth", aud: "twist-api", exp: 9_999_999_999, iat: 1 }, svc.keySet)}`, "object claims"],
      [`Bearer ${await signJwt({ sub: wallet, walletAddress: wallet, iss: "twist-auth", aud: "twist-api", exp: "never", iat: "now" }, svc.keySet)}`, "string exp"],
      [`Bearer ${"a".repeat(8000)}`, "8 KB token"],
    ];
    const body = hasBody ? filler : undefined;
    // Signed with the real key, so the signature vouches for it: any answer but a 5xx or a non-envelope.
    const sqlClaims = await signJwt({ sub: SQL, walletAddress: SQL, iss: "twist-auth", aud: "twist-api", exp: 9_999_999_999, iat: 1 }, svc.keySet);
    probes.push({ label: "SQL wallet claim", method: route.method, path, headers: { "Content-Type": "application/json", Authorization: `Bearer ${sqlClaims}`, ...idem() }, body, expect: "any" });
    probes.push({ label: "no Authorization", method: route.method, path, headers: { "Content-Type": "application/json", ...idem() }, body, expect: "unauthorized" });
    for (const [value, label] of hostileTokens) {
      probes.push({ label, method: route.method, path, headers: { "Content-Type": "application/json", Authorization: value, ...idem() }, body, expect: "unauthorized" });
    }
  }
  if (route.signed) {
    const body = filler;
    const good = await signedHeaders(route.method, path, body, svc.signingKey(route.template));
    const cases: [Record<string, string>, string][] = [
      [{}, "unsigned"],
      [{ "X-Timestamp": good["X-Timestamp"] }, "no signature"],
      [{ "X-Signature": good["X-Signature"] }, "no timestamp"],
      [{ ...good, "X-Signature": "v1=zz" }, "non-hex signature"],
      [{ ...good, "X-Signature": `v1=${"a".repeat(5000)}` }, "huge signature"],
      [{ ...good, "X-Signature": good["X-Signature"].replace(/.$/, (c) => (c === "0" ? "1" : "0")) }, "altered signature"],
      [{ ...good, "X-Timestamp": "-1" }, "negative timestamp"],
      [{ ...good, "X-Timestamp": "1e400" }, "1e400 timestamp"],
      [{ ...good, "X-Timestamp": "99999999999999999999999" }, "huge timestamp"],
      [{ ...good, "X-Timestamp": "abc" }, "word timestamp"],
      [{ ...(await signedHeaders(route.method, path, body, "a-key-nobody-holds-000000000000")) }, "foreign key"],
    ];
    for (const [headers, label] of cases) probes.push({ label, method: route.method, path, headers: { "Content-Type": "application/json", ...headers }, body, expect: "unauthorized" });
  }

  // Hostile path parameters.
  for (const param of route.pathParams) {
    for (const value of PATH_VALUES) {
      const p = fillPath(route.template, { ...validParams, [param]: value });
      const body = hasBody ? filler : undefined;
      probes.push({ label: `path ${param}`, method: route.method, path: p, headers: await signIfNeeded(route, svc, p, { "Content-Type": "application/json", ...auth, ...idem() }, body), body, expect: "any" });
    }
  }

  // Hostile query strings: the documented parameters, plus undocumented ones everywhere.
  const names = [...route.queryParams.map((q) => q.name as string), "__proto__"];
  for (const name of names) {
    const values = route.queryParams.length || name === "__proto__" ? QUERY_VALUES(name) : [];
    for (const q of values.slice(0, name === "__proto__" ? 4 : undefined)) {
      const p = `${path}?${q}`;
      const body = hasBody ? filler : undefined;
      probes.push({ label: `query ${q.slice(0, 40)}`, method: route.method, path: p, headers: await signIfNeeded(route, svc, p, { "Content-Type": "application/json", ...auth, ...idem() }, body), body, expect: "any" });
    }
  }

  // Hostile bodies with valid credentials (and a valid signature over them on signed routes).
  if (hasBody) {
    const items = Object.keys(props).flatMap((name) => {
      const sample = svc.itemSample?.(name);
      return sample ? itemCases(name, sample) : [];
    });
    for (const c of [...bodyCases(props, fillerBody(props, required), svc.limit, route.bodySchema !== undefined), ...items]) {
      const base = { ...auth, ...idem() };
      const headers = route.signed ? { ...base, ...(await signedHeaders(route.method, path, c.text, svc.signingKey(route.template))) } : base;
      probes.push(probeFromBody(route, path, headers, c));
    }
  }

  // Hostile Idempotency-Key values.
  if (route.idempotent) {
    for (const key of ["", "short", "a".repeat(129), "../../x", SQL, "\u00e9".repeat(10), "__proto__"]) {
      probes.push({ label: `Idempotency-Key ${JSON.stringify(key.slice(0, 20))}`, method: route.method, path, headers: { "Content-Type": "application/json", ...auth, "Idempotency-Key": key }, body: filler, expect: "any" });
    }
  }

  // A method the path does not have, and a hostile request id.
  const other = WRONG_METHODS.find((m) => !svc.allMethods(route.template).includes(m))!;
  probes.push({ label: "wrong method", method: other, path, headers: { ...auth }, expect: "reject" });
  probes.push({ label: "hostile X-Request-Id", method: route.method, path, headers: { ...auth, "X-Request-Id": `${"a".repeat(70)}\u00e9` }, expect: "any" });
  return probes;
}

function methodsByTemplate(routes: Route[]): (template: string) => string[] {
  return (template) => routes.filter((r) => r.template === template).map((r) => r.method);
}

async function listen(app: (req: any, res: any) => void): Promise<Server> {
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

async function close(server: Server | undefined): Promise<void> {
  if (!server) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

// ---------------------------------------------------------------------------------------------
// auth
// ---------------------------------------------------------------------------------------------

describe("fuzz: no server errors — auth (every route of docs/api/auth.yaml)", function () {
  const { routes, resolve } = openApiRoutes("docs/api/auth.yaml");
  const keySet = parseJwtKeySet(AUTH_JWT_KEYS);
  let service: TestService;
  let server: Server;
  let token: string;

  before(async () => {
    service = await startService("fuzz");
    server = await listen(service.app);
    token = (await signIdentityToken(newAuthWallet().address, keySet)).token;
  });
  after(async () => {
    await close(server);
    await service?.close();
  });

  it("reads the routes from the OpenAPI document", () => {
    expect(routes.map((r) => `${r.method} ${r.template}`)).to.include.members(["POST /auth/nonce", "POST /auth/verify", "GET /auth/me", "GET /health"]);
  });

  for (const route of routes) {
    it(`${route.method} ${route.template}: never 5xx, errors are envelopes`, async function () {
      const svc: ServiceUnderTest = {
        limit: AUTH_BODY_LIMIT,
        keySet,
        token,
        pathValue: () => "x",
        signingKey: () => "",
        resolve,
        allMethods: methodsByTemplate(routes),
      };
      const probes = await routeProbes(route, svc);
      expectClean(await runProbes(this, server, probes), probes);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// influencer
// ---------------------------------------------------------------------------------------------

describe("fuzz: no server errors — influencer (every route of docs/api/influencer.yaml)", function () {
  const { routes, resolve } = openApiRoutes("docs/api/influencer.yaml");
  let h: Harness;
  let server: Server;
  let owner: Awaited<ReturnType<typeof newInfluencer>>;
  let other: Awaited<ReturnType<typeof newInfluencer>>;
  let link: { code: string };
  let poolId: string;
  let payoutId: string;

  before(async () => {
    h = await startHarness("fuzz");
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

  for (const route of routes) {
    it(`${route.method} ${route.template}: never 5xx, errors are envelopes`, async function () {
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
    expect(withIds.filter((r) => !OWNED.has(r) && !SHARED.has(r)), "unclassified routes").to.deep.equal([]);
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

// ---------------------------------------------------------------------------------------------
// edge
// ---------------------------------------------------------------------------------------------

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
        probes.push({ label: "SQL wallet claim", method: route.method, path, headers: { "Content-Type": "application/json", Authorization: `Bearer ${sqlClaims}`, ...(await sign(route.method, path, text)) }, body: text, expect: "any" });
        probes.push({ label: "alg none", method: route.method, path, headers: { "Content-Type": "application/json", Authorization: `Bearer ${await signJwt({ sub: wallet, walletAddress: wallet, iss: "twist-auth", aud: "twist-api", exp: 9_999_999_999 }, EDGE_JWT_KEY_SET, { alg: "none" })}`, ...(await sign(route.method, path, text)) }, body: text, expect: "unauthorized" });
        probes.push({ label: "no Authorization", method: route.method, path, headers: { "Content-Type": "application/json", ...(await sign(route.method, path, text)) }, body: text, expect: "unauthorized" });
        probes.push({ label: "unsigned", method: route.method, path, headers: { "Content-Type": "application/json", ...auth }, body: text, expect: "unauthorized" });
        probes.push({ label: "garbage token", method: route.method, path, headers: { "Content-Type": "application/json", Authorization: "Bearer a.b.c", ...(await sign(route.method, path, text)) }, body: text, expect: "unauthorized" });
        probes.push({ label: "huge signature", method: route.method, path, headers: { "Content-Type": "application/json", ...auth, "X-Timestamp": String(Date.now()), "X-Signature": `v1=${"f".repeat(5000)}` }, body: text, expect: "unauthorized" });
        probes.push({ label: "1e400 timestamp", method: route.method, path, headers: { "Content-Type": "application/json", ...auth, ...(await sign(route.method, path, text)), "X-Timestamp": "1e400" }, body: text, expect: "unauthorized" });

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
          probes.push({ label: `query ${q.slice(0, 30)}`, method: route.method, path: p, headers: { "Content-Type": "application/json", ...auth, ...(await sign(route.method, p, text)) }, body: text, expect: "any" });
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
