import { expect } from "chai";
import bs58 from "bs58";
import nacl from "tweetnacl";
import { decodeSignature, verifyEd25519, verifyWalletSignature } from "../src/signature";
import { loadVector } from "../../../test/support/vectors";

interface SiwsVector {
  secretKeySeedHex: string;
  address: string;
  message: string;
  signatureBase58: string;
  signatureBase64: string;
}

const vector = loadVector<SiwsVector>("siws");

/** The same text with one character replaced by another of the same alphabet. */
function changeOneChar(text: string, index: number): string {
  const c = text[index]!;
  return text.slice(0, index) + (c === "A" ? "B" : "A") + text.slice(index + 1);
}

describe("auth: ed25519 signature verification", () => {
  it("the vector's key seed yields the vector's address", () => {
    const pair = nacl.sign.keyPair.fromSeed(Buffer.from(vector.secretKeySeedHex, "hex"));
    expect(bs58.encode(pair.publicKey)).to.equal(vector.address);
  });

  for (const encoding of ["signatureBase58", "signatureBase64"] as const) {
    it(`verifies the vector's ${encoding}`, () => {
      expect(verifyWalletSignature(vector.address, vector.message, vector[encoding])).to.equal(true);
    });

    it(`refuses the vector's ${encoding} after a one-character change to the signature`, () => {
      expect(verifyWalletSignature(vector.address, vector.message, changeOneChar(vector[encoding], 10))).to.equal(false);
    });
  }

  it("refuses the vector after a one-byte change to the message, in every position class", () => {
    const bytes = Buffer.from(vector.message, "utf8");
    for (const index of [0, 20, bytes.length >> 1, bytes.length - 1]) {
      const changed = Buffer.from(bytes);
      changed[index] = changed[index]! ^ 0x01;
      expect(verifyWalletSignature(vector.address, changed.toString("utf8"), vector.signatureBase58), `byte ${index}`).to.equal(false);
    }
  });

  it("refuses the vector after a one-bit change to the signature bytes or the public key", () => {
    const signature = bs58.decode(vector.signatureBase58);
    const key = bs58.decode(vector.address);
    const message = Buffer.from(vector.message, "utf8");
    expect(verifyEd25519(message, signature, key)).to.equal(true);
    for (const index of [0, 31, 32, 63]) {
      const s = Uint8Array.from(signature);
      s[index] = s[index]! ^ 0x80;
      expect(verifyEd25519(message, s, key), `signature byte ${index}`).to.equal(false);
    }
    const k = Uint8Array.from(key);
    k[0] = k[0]! ^ 0x01;
    expect(verifyEd25519(message, signature, k)).to.equal(false);
  });

  it("agrees with tweetnacl on fresh keys and refuses a signature by another key", () => {
    for (let i = 0; i < 8; i++) {
      const pair = nacl.sign.keyPair();
      const other = nacl.sign.keyPair();
      const message = new TextEncoder().encode(`message ${i} ${"é".repeat(i)}`);
      const signature = nacl.sign.detached(message, pair.secretKey);
      expect(verifyEd25519(message, signature, pair.publicKey))
        .to.equal(nacl.sign.detached.verify(message, signature, pair.publicKey))
        .and.to.equal(true);
      expect(verifyEd25519(message, nacl.sign.detached(message, other.secretKey), pair.publicKey)).to.equal(false);
    }
  });

  it("returns false, never throws, for a public key that is not a curve point", () => {
    const signature = bs58.decode(vector.signatureBase58);
    expect(verifyEd25519(Buffer.from(vector.message), signature, new Uint8Array(32).fill(0xff))).to.equal(false);
    expect(verifyWalletSignature("11111111111111111111111111111111", vector.message, signature)).to.equal(false);
  });

  describe("decodeSignature", () => {
    it("reads base58 and padded base64 to the same 64 bytes", () => {
      const a = decodeSignature(vector.signatureBase58);
      const b = decodeSignature(vector.signatureBase64);
      expect(a).to.have.length(64);
      expect(Buffer.from(a!).equals(Buffer.from(b!))).to.equal(true);
    });

    const refused: [string, unknown][] = [
      ["unpadded base64 (ambiguous)", "4VYYm5Dn3OrF7Y1xyKypCjq+qFsnapk8CG8ekyCS4SryPoWCTlkCpnJ+ESCICauEj/Hk/+wcaThmacwcHk8mAg"],
      ["base64url", vector.signatureBase64.replace(/\+/g, "-").replace(/\//g, "_")],
      ["base58 of 63 bytes", bs58.encode(new Uint8Array(63).fill(9))],
      ["base58 of 65 bytes", bs58.encode(new Uint8Array(65).fill(9))],
      ["base64 of 65 bytes", Buffer.alloc(65, 9).toString("base64")],
      ["hex", Buffer.alloc(64, 9).toString("hex")],
      ["a number", 42],
      ["empty", ""],
    ];
    for (const [name, text] of refused) {
      it(`refuses ${name}`, () => {
        expect(decodeSignature(text)).to.equal(null);
      });
    }
  });
});
