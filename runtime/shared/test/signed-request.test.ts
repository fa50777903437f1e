import { expect } from "chai";
import { loadVector } from "../../../test/support/vectors";
import { canonicalString, signRequest, signedHeaders, verifySignedRequest } from "@twist/shared/signed-request";
import { sha256Hex, utf8 } from "@twist/shared/encoding";

interface Case {
  name: string;
  method: string;
  target: string;
  timestamp: string;
  body: string;
  header: string;
  canonical?: string;
  bodySha256?: string;
  signature?: string;
}
const vector = loadVector<{ keys: { current: string; previous: string }; now: number; valid: Case[]; invalid: Case[] }>("signed-requests");
const keys = [vector.keys.current, vector.keys.previous];

const check = (c: Pick<Case, "method" | "target" | "timestamp" | "body">, header: string | null, options: { now?: number; keys?: string[] } = {}) =>
  verifySignedRequest({ method: c.method, target: c.target, body: c.body, timestamp: c.timestamp, signature: header }, options.keys ?? keys, { now: options.now ?? vector.now });

describe("contract 3: signed requests", () => {
  describe("shared vectors", () => {
    for (const c of vector.valid) {
      it(`accepts: ${c.name}`, async () => {
        if (c.canonical) expect(await canonicalString(c)).to.equal(c.canonical);
        if (c.bodySha256) expect(await sha256Hex(utf8(c.body))).to.equal(c.bodySha256);
        if (c.signature) {
          const key = c.name.includes("previous") ? vector.keys.previous : vector.keys.current;
          expect(await signRequest(c, key)).to.equal(c.signature);
        }
        expect(await check(c, c.header)).to.deep.equal({ ok: true });
      });
    }
    const expectedReason: Record<string, string> = {
      "body changed by one byte": "SIGNATURE_MISMATCH",
      "another path": "SIGNATURE_MISMATCH",
      "another method": "SIGNATURE_MISMATCH",
      "timestamp 300001 ms before now": "TIMESTAMP_SKEW",
      "timestamp 300001 ms after now": "TIMESTAMP_SKEW",
      "unknown scheme": "SIGNATURE_MALFORMED",
      "uppercase hex (only lowercase hex is canonical)": "SIGNATURE_MALFORMED",
      "missing header": "SIGNATURE_MISSING",
      "signed with a key not in the set": "SIGNATURE_MISMATCH",
    };
    for (const c of vector.invalid) {
      it(`refuses: ${c.name}`, async () => {
        const result = await check(c, c.header === "" ? null : c.header);
        expect(result.ok).to.equal(false);
        if (!result.ok && c.name in expectedReason) expect(result.reason).to.equal(expectedReason[c.name]);
      });
    }
  });

  describe("verification", () => {
    const req = { method: "POST", target: "/api/v1/vau?x=1", timestamp: String(vector.now), body: '{"a":1}' };
    let header: string;
    before(async () => {
      header = await signRequest(req, vector.keys.current);
    });

    it("signs what it verifies, with the headers a client sends", async () => {
      const headers = await signedHeaders("post", req.target, req.body, vector.keys.current, vector.now);
      expect(headers["X-Timestamp"]).to.equal(String(vector.now));
      expect(headers["X-Signature"]).to.equal(header);
      expect(header).to.match(/^v1=[0-9a-f]{64}$/);
    });

    it("names a missing signature and a missing timestamp", async () => {
      expect(await check(req, null)).to.include({ ok: false, reason: "SIGNATURE_MISSING" });
      expect(await verifySignedRequest({ ...req, timestamp: null, signature: header }, keys, { now: vector.now })).to.include({ ok: false, reason: "TIMESTAMP_MISSING" });
      expect(await verifySignedRequest({ ...req, timestamp: "12.5", signature: header }, keys, { now: vector.now })).to.include({ ok: false, reason: "TIMESTAMP_MALFORMED" });
    });

    it("accepts exactly ±5 minutes of skew and refuses beyond", async () => {
      expect(await check(req, header, { now: vector.now + 300_000 })).to.deep.equal({ ok: true });
      expect(await check(req, header, { now: vector.now - 300_000 })).to.deep.equal({ ok: true });
      expect(await check(req, header, { now: vector.now + 300_001 })).to.include({ reason: "TIMESTAMP_SKEW" });
      expect(await check(req, header, { now: vector.now - 300_001 })).to.include({ reason: "TIMESTAMP_SKEW" });
    });

    it("refuses one changed byte of body, path, query or method", async () => {
      for (const changed of [
        { ...req, body: '{"a":2}' },
        { ...req, target: "/api/v1/vaU?x=1" },
        { ...req, target: "/api/v1/vau?x=2" },
        { ...req, method: "PUT" },
      ]) {
        expect(await check(changed, header)).to.include({ ok: false, reason: "SIGNATURE_MISMATCH" });
      }
    });

    it("accepts several signatures when one is valid, and rotation to a previous key", async () => {
      const previous = await signRequest(req, vector.keys.previous);
      expect(await check(req, `v1=${"ab".repeat(32)} ${header}`)).to.deep.equal({ ok: true });
      expect(await check(req, previous)).to.deep.equal({ ok: true });
      expect(await check(req, previous, { keys: [vector.keys.current] })).to.include({ reason: "SIGNATURE_MISMATCH" });
    });

    it("refuses malformed signature values", async () => {
      for (const bad of ["v1=", "v1=zz", `v1=${"A".repeat(64)}`, `sha256=${"a".repeat(64)}`, `v1=${"a".repeat(62)}`, "   "]) {
        expect(await check(req, bad)).to.include({ ok: false, reason: "SIGNATURE_MALFORMED" });
      }
    });

    it("signs raw bytes, so a body is verified exactly as received", async () => {
      const bytes = new Uint8Array([0xff, 0x00, 0x7b]);
      const sig = await signRequest({ ...req, body: bytes }, vector.keys.current);
      expect(await verifySignedRequest({ ...req, body: bytes, signature: sig }, keys, { now: vector.now })).to.deep.equal({ ok: true });
    });
  });
});
