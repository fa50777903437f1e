// Hostile input: values, bodies and batch items made hostile one field at a time, and every probe of
// one documented route of an Express service (credentials, signatures, path, query, body, method).
import { randomUUID } from "node:crypto";
import { signJwt, signIdentityToken } from "@twist/shared/jwt";
import { parseJwtKeySet, type JwtKeySet } from "@twist/shared/keys";
import { signedHeaders } from "@twist/shared/signed-request";
import { newWallet as newAuthWallet } from "../../runtime/auth/test/support";
import { MERCHANT_DOMAIN } from "../../runtime/influencer/test/harness";
import type { Route, Schema } from "./openapi";
import type { Probe } from "./probe";

export const SQL = "' OR '1'='1'; DROP TABLE users; --";
const HOSTILE_STRINGS: unknown[] = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\u202Eevil\u202C\u200F",
  "名前😀\uFEFF",
  "\uD800",
  SQL,
  "../../../etc/passwd",
  "__proto__",
  "constructor",
  "%00",
  "<script>alert(1)</script>",
  "${jndi:ldap://x}",
];
const NOT_STRINGS: unknown[] = [12345, -1, 1.5, 0, true, false, null, { $gt: "" }, ["a"], [], {}, { toString: "x" }];
const NOT_INTEGERS: unknown[] = ["5", "1e3", -1, 1.5, 1e308, "abc", null, [], {}, true, "9".repeat(400)];
const AMOUNTS: unknown[] = ["0", "-1", "01", "1.5", "1e9", " 1", "0x10", "9".repeat(39), `1${"0".repeat(39)}`, "9".repeat(40), "9".repeat(100), 1000, 1e21];
/** Raw JSON number texts that JSON.stringify cannot produce. */
const RAW_NUMBERS = ["1e400", "-1e400", "9007199254740993", "1E-400", "-0"];

export const PATH_VALUES: string[] = [
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

export const QUERY_VALUES = (name: string): string[] => [
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

export interface BodyCase {
  label: string;
  text: string;
  contentType?: string;
  encoding?: string;
  reject: boolean;
}

/** Bodies for a route: generic malformed ones plus, per documented property, wrong types and hostile values. */
export function bodyCases(props: Record<string, Schema>, filler: Record<string, unknown>, limit: number, hasSchema: boolean): BodyCase[] {
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
      values.push({ v: `${"a".repeat((prop.maxLength as number | undefined) ?? 1000)}a`, reject: prop.maxLength !== undefined });
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
export function itemCases(arrayName: string, sample: () => Record<string, unknown>): BodyCase[] {
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

export function probeFromBody(route: { method: string }, path: string, headers: Record<string, string>, c: BodyCase): Probe {
  const h: Record<string, string> = { ...headers };
  h["Content-Type"] = c.contentType ?? "application/json";
  if (c.encoding) h["Content-Encoding"] = c.encoding;
  return { label: c.label, method: route.method, path, headers: h, body: c.text, expect: c.reject ? "reject" : "any" };
}

export const WRONG_METHODS = ["PUT", "DELETE", "PATCH", "POST", "GET"];

// ---------------------------------------------------------------------------------------------
// Probes for one documented route of an Express service
// ---------------------------------------------------------------------------------------------

export interface ServiceUnderTest {
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

export function fillPath(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_m, name: string) => values[name]!);
}

async function signIfNeeded(route: Route, svc: ServiceUnderTest, path: string, headers: Record<string, string>, body: string | Buffer = ""): Promise<Record<string, string>> {
  if (!route.signed) return headers;
  return { ...headers, ...(await signedHeaders(route.method, path, body, svc.signingKey(route.template))) };
}

export async function routeProbes(route: Route, svc: ServiceUnderTest): Promise<Probe[]> {
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
    probes.push({
      label: "SQL wallet claim",
      method: route.method,
      path,
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${sqlClaims}`, ...idem() },
      body,
      expect: "any",
    });
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
      probes.push({
        label: `path ${param}`,
        method: route.method,
        path: p,
        headers: await signIfNeeded(route, svc, p, { "Content-Type": "application/json", ...auth, ...idem() }, body),
        body,
        expect: "any",
      });
    }
  }

  // Hostile query strings: the documented parameters, plus undocumented ones everywhere.
  const names = [...route.queryParams.map((q) => q.name as string), "__proto__"];
  for (const name of names) {
    const values = route.queryParams.length || name === "__proto__" ? QUERY_VALUES(name) : [];
    for (const q of values.slice(0, name === "__proto__" ? 4 : undefined)) {
      const p = `${path}?${q}`;
      const body = hasBody ? filler : undefined;
      probes.push({
        label: `query ${q.slice(0, 40)}`,
        method: route.method,
        path: p,
        headers: await signIfNeeded(route, svc, p, { "Content-Type": "application/json", ...auth, ...idem() }, body),
        body,
        expect: "any",
      });
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
      probes.push({
        label: `Idempotency-Key ${JSON.stringify(key.slice(0, 20))}`,
        method: route.method,
        path,
        headers: { "Content-Type": "application/json", ...auth, "Idempotency-Key": key },
        body: filler,
        expect: "any",
      });
    }
  }

  // A method the path does not have, and a hostile request id.
  const other = WRONG_METHODS.find((m) => !svc.allMethods(route.template).includes(m))!;
  probes.push({ label: "wrong method", method: other, path, headers: { ...auth }, expect: "reject" });
  probes.push({ label: "hostile X-Request-Id", method: route.method, path, headers: { ...auth, "X-Request-Id": `${"a".repeat(70)}\u00e9` }, expect: "any" });
  return probes;
}
