import { expect } from "chai";
import { loadVector, type AuthorizationHeaderVectors } from "../../../test/support/vectors";
import { JwtError, bearerToken, signIdentityToken, signJwt, verifyAuthorization, verifyIdentityToken } from "@twist/shared/jwt";
import { parseJwtKeySet, type JwtKeySet } from "@twist/shared/keys";
import { fromBase64Url, toBase64Url, utf8 } from "@twist/shared/encoding";

const vector = loadVector<{ keys: Record<string, string>; now: number; valid: { name: string; token: string; now?: number }[]; invalid: { name: string; token: string }[] }>("jwt");
const vectorKeys: JwtKeySet = { currentKid: "2026-01", keys: vector.keys };
const WALLET = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin";

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    expect(err).to.be.instanceOf(JwtError);
    return (err as JwtError).reason;
  }
  throw new Error("expected the token to be refused");
}

describe("contract 1: JWT", () => {
  describe("shared vectors", () => {
    for (const v of vector.valid) {
      it(`accepts: ${v.name}`, async () => {
        const claims = await verifyIdentityToken(v.token, vectorKeys, { now: v.now ?? vector.now });
        expect(claims.sub).to.equal(WALLET);
        expect(claims.walletAddress).to.equal(WALLET);
      });
    }
    // The reason each vector is refused for; a vector added later must at least be refused.
    const expectedReason: Record<string, string> = {
      "alg none": "TOKEN_ALGORITHM",
      HS512: "TOKEN_ALGORITHM",
      "unknown kid": "TOKEN_KID",
      "missing kid": "TOKEN_KID",
      "wrong issuer": "TOKEN_ISSUER",
      "wrong audience": "TOKEN_AUDIENCE",
      "expired 31 s ago": "TOKEN_EXPIRED",
      "missing sub": "TOKEN_CLAIMS",
      "signed with the other key's secret under this kid": "TOKEN_SIGNATURE",
      "payload changed after signing": "TOKEN_SIGNATURE",
    };
    for (const v of vector.invalid) {
      it(`refuses: ${v.name}`, async () => {
        const reason = await reasonOf(verifyIdentityToken(v.token, vectorKeys, { now: vector.now }));
        if (v.name in expectedReason) expect(reason).to.equal(expectedReason[v.name]);
      });
    }
  });

  describe("sign and verify", () => {
    const keySet = parseJwtKeySet("k2:current-secret-0123456789,k1:previous-secret-0123456789");
    const previousOnly = parseJwtKeySet("k1:previous-secret-0123456789");
    const now = 1_800_000_000;

    it("issues the claims of contract 1 and verifies them", async () => {
      const { token, claims } = await signIdentityToken(WALLET, keySet, { now });
      expect(claims).to.include({ iss: "twist-auth", aud: "twist-api", sub: WALLET, walletAddress: WALLET, iat: now, exp: now + 900 });
      expect(claims.jti).to.match(/^[0-9a-f-]{36}$/);
      const header = JSON.parse(new TextDecoder().decode(fromBase64Url(token.split(".")[0]!)!));
      expect(header).to.deep.equal({ alg: "HS256", typ: "JWT", kid: "k2" });
      expect(await verifyIdentityToken(token, keySet, { now: now + 60 })).to.deep.equal(claims);
    });

    it("accepts a token signed with the previous key during rotation", async () => {
      const { token } = await signIdentityToken(WALLET, previousOnly, { now });
      expect((await verifyIdentityToken(token, keySet, { now })).sub).to.equal(WALLET);
    });

    it("refuses alg none", async () => {
      const { token } = await signIdentityToken(WALLET, keySet, { now });
      const [, body] = token.split(".");
      const none = `${toBase64Url(utf8(JSON.stringify({ alg: "none", kid: "k2" })))}.${body}.`;
      expect(await reasonOf(verifyIdentityToken(none, keySet, { now }))).to.equal("TOKEN_ALGORITHM");
    });

    it("refuses another algorithm even with a valid HMAC", async () => {
      const token = await signJwt({ iss: "twist-auth", aud: "twist-api", sub: WALLET, exp: now + 900 }, keySet, { alg: "HS512" });
      expect(await reasonOf(verifyIdentityToken(token, keySet, { now }))).to.equal("TOKEN_ALGORITHM");
    });

    it("refuses a wrong issuer and a wrong audience", async () => {
      const iss = await signJwt({ iss: "evil", aud: "twist-api", sub: WALLET, exp: now + 900 }, keySet);
      const aud = await signJwt({ iss: "twist-auth", aud: "other", sub: WALLET, exp: now + 900 }, keySet);
      expect(await reasonOf(verifyIdentityToken(iss, keySet, { now }))).to.equal("TOKEN_ISSUER");
      expect(await reasonOf(verifyIdentityToken(aud, keySet, { now }))).to.equal("TOKEN_AUDIENCE");
    });

    it("allows 30 s of clock tolerance on exp and no more", async () => {
      const { token } = await signIdentityToken(WALLET, keySet, { now });
      expect((await verifyIdentityToken(token, keySet, { now: now + 900 + 30 })).sub).to.equal(WALLET);
      expect(await reasonOf(verifyIdentityToken(token, keySet, { now: now + 900 + 31 }))).to.equal("TOKEN_EXPIRED");
    });

    it("refuses a token issued beyond the tolerance in the future", async () => {
      const { token } = await signIdentityToken(WALLET, keySet, { now: now + 120 });
      expect(await reasonOf(verifyIdentityToken(token, keySet, { now }))).to.equal("TOKEN_NOT_YET_VALID");
    });

    it("refuses an unknown kid and a missing kid", async () => {
      const other = parseJwtKeySet("k9:another-secret-0123456789");
      const { token } = await signIdentityToken(WALLET, other, { now });
      expect(await reasonOf(verifyIdentityToken(token, keySet, { now }))).to.equal("TOKEN_KID");
      const noKid = await signJwt({ iss: "twist-auth", aud: "twist-api", sub: WALLET, exp: now + 900 }, keySet, { kid: undefined });
      expect(await reasonOf(verifyIdentityToken(noKid, keySet, { now }))).to.equal("TOKEN_KID");
    });

    it("refuses a payload changed after signing", async () => {
      const { token } = await signIdentityToken(WALLET, keySet, { now });
      const [head, , sig] = token.split(".");
      const forged = toBase64Url(utf8(JSON.stringify({ iss: "twist-auth", aud: "twist-api", sub: "11111111111111111111111111111111", exp: now + 900 })));
      expect(await reasonOf(verifyIdentityToken(`${head}.${forged}.${sig}`, keySet, { now }))).to.equal("TOKEN_SIGNATURE");
    });

    it("refuses a token without sub or exp", async () => {
      const noSub = await signJwt({ iss: "twist-auth", aud: "twist-api", exp: now + 900 }, keySet);
      const noExp = await signJwt({ iss: "twist-auth", aud: "twist-api", sub: WALLET }, keySet);
      expect(await reasonOf(verifyIdentityToken(noSub, keySet, { now }))).to.equal("TOKEN_CLAIMS");
      expect(await reasonOf(verifyIdentityToken(noExp, keySet, { now }))).to.equal("TOKEN_CLAIMS");
    });

    it("refuses a sub that is not a wallet address", async () => {
      for (const sub of ["user-42", "0OIl0OIl0OIl0OIl0OIl0OIl0OIl0OIl", "1111111111111111111111111111111"]) {
        const token = await signJwt({ iss: "twist-auth", aud: "twist-api", sub, exp: now + 900 }, keySet);
        expect(await reasonOf(verifyIdentityToken(token, keySet, { now })), sub).to.equal("TOKEN_CLAIMS");
      }
    });

    it("refuses a walletAddress that differs from sub", async () => {
      const token = await signJwt({ iss: "twist-auth", aud: "twist-api", sub: WALLET, walletAddress: "11111111111111111111111111111111", exp: now + 900 }, keySet);
      expect(await reasonOf(verifyIdentityToken(token, keySet, { now }))).to.equal("TOKEN_CLAIMS");
    });

    it("refuses garbage without throwing anything but JwtError", async () => {
      for (const junk of ["", "a.b", "a.b.c.d", "!!!.???.***", `${toBase64Url(utf8("[]"))}.e30.AA`]) {
        expect(await reasonOf(verifyIdentityToken(junk, keySet, { now }))).to.be.oneOf(["TOKEN_MALFORMED", "TOKEN_ALGORITHM"]);
      }
    });
  });

  describe("bearerToken (vectors/authorization-header.json)", () => {
    for (const c of loadVector<AuthorizationHeaderVectors>("authorization-header").cases) {
      it(`${c.name}: ${c.token === null ? "refused" : "accepted"}`, () => {
        expect(bearerToken(c.header)).to.equal(c.token);
      });
    }
  });

  describe("verifyAuthorization", () => {
    const keySet = parseJwtKeySet("k2:current-secret-0123456789");
    const now = 1_800_000_000;
    it("names a missing header TOKEN_MISSING and a malformed one TOKEN_MALFORMED, before verifying anything", async () => {
      expect(await reasonOf(verifyAuthorization(undefined, keySet, { now }))).to.equal("TOKEN_MISSING");
      expect(await reasonOf(verifyAuthorization("", keySet, { now }))).to.equal("TOKEN_MISSING");
      expect(await reasonOf(verifyAuthorization("Basic dXNlcg==", keySet, { now }))).to.equal("TOKEN_MALFORMED");
    });
    it("verifies the token of a lowercase bearer header", async () => {
      const { token } = await signIdentityToken(WALLET, keySet, { now });
      expect((await verifyAuthorization(`bearer ${token}`, keySet, { now })).sub).to.equal(WALLET);
    });
  });
});
