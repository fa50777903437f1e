import { expect } from "chai";
import { loadVector } from "../../../test/support/vectors";
import { buildSiwsMessage, parseSiwsMessage, type SiwsFields } from "@twist/shared/siws";

const vector = loadVector<{ message: string; fields: SiwsFields }>("siws");

describe("contract 2: sign-in message", () => {
  it("builds the vector's message byte for byte from its fields", () => {
    expect(buildSiwsMessage(vector.fields)).to.equal(vector.message);
  });

  it("parses the vector's message back into its fields", () => {
    expect(parseSiwsMessage(vector.message)).to.deep.equal(vector.fields);
  });

  const tampered: [string, (m: string) => string][] = [
    ["a trailing newline", (m) => `${m}\n`],
    ["a missing line", (m) => m.replace("Version: 1\n", "")],
    ["an extra line", (m) => m.replace("Version: 1\n", "Version: 1\nResources: x\n")],
    ["a non-ISO instant", (m) => m.replace("2026-01-01T00:00:00.000Z", "2026-01-01 00:00:00")],
    ["an invalid date", (m) => m.replace("2026-01-01T00:00:00.000Z", "2026-13-01T00:00:00.000Z")],
    ["a non-base58 address", (m) => m.replace(vector.fields.address, "0".repeat(44))],
    ["a nonce with punctuation", (m) => m.replace(vector.fields.nonce, "abc-def")],
    ["CRLF line endings", (m) => m.replace(/\n/g, "\r\n")],
  ];
  for (const [name, change] of tampered) {
    it(`does not parse a message with ${name}`, () => {
      expect(parseSiwsMessage(change(vector.message))).to.equal(null);
    });
  }
});
