import { expect } from "chai";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { decodeWalletAddress, isWalletAddress } from "@twist/shared/wallet";
import { ApiError, errorBody, rateLimited, toErrorResponse } from "@twist/shared/errors";
import { DESIGN_VECTORS_DIR, VECTORS_DIR } from "../../../test/support/vectors";

describe("wallet addresses", () => {
  it("accepts base58 that decodes to 32 bytes", () => {
    expect(decodeWalletAddress("9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin")).to.have.length(32);
    expect(isWalletAddress("11111111111111111111111111111111")).to.equal(true);
  });
  it("refuses other lengths, alphabets and types", () => {
    for (const bad of ["1111111111111111111111111111111", "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin1", "0OIl", "", 42, null]) {
      expect(isWalletAddress(bad), String(bad)).to.equal(false);
    }
  });
});

describe("error envelope", () => {
  it("keeps a specific code with its status and details", () => {
    const { status, body } = toErrorResponse(new ApiError("DUPLICATE_VAU", "seen", { status: 409, details: { vauId: "x" } }), "req-1");
    expect(status).to.equal(409);
    expect(body).to.deep.equal({ error: { code: "DUPLICATE_VAU", message: "seen", requestId: "req-1", details: { vauId: "x" } } });
  });
  it("hides anything unexpected behind INTERNAL without a stack", () => {
    const { status, body } = toErrorResponse(new TypeError("db password is hunter2"), "req-2");
    expect(status).to.equal(500);
    expect(body).to.deep.equal(errorBody("INTERNAL", "internal error", "req-2"));
  });
  it("gives 429 a Retry-After", () => {
    const { status, headers } = toErrorResponse(rateLimited(2.2), "r");
    expect(status).to.equal(429);
    expect(headers).to.deep.equal({ "Retry-After": "3" });
  });
});

describe("test vectors", () => {
  it("the committed copy matches the design's shared/vectors when it is beside the repo", () => {
    const names = ["authorization-header.json", "jwt.json", "signed-requests.json", "siws.json"];
    for (const name of names) expect(existsSync(join(VECTORS_DIR, name)), name).to.equal(true);
    if (!existsSync(DESIGN_VECTORS_DIR)) return;
    // A vector file the design adds must be copied here (and run) too.
    expect(
      readdirSync(DESIGN_VECTORS_DIR)
        .filter((n) => n.endsWith(".json"))
        .sort(),
    ).to.deep.equal(names);
    for (const name of names) {
      expect(readFileSync(join(VECTORS_DIR, name), "utf8"), name).to.equal(readFileSync(join(DESIGN_VECTORS_DIR, name), "utf8"));
    }
  });
});
