import { expect } from "chai";
import { ApiError, ERROR_STATUS, SPECIFIC_ERROR_STATUS, conflict, forbidden, rateLimited, secondsToWait, toErrorResponse, type ErrorCode } from "@twist/shared/errors";
import { SIGN_IN_FAILURES } from "@twist/shared/siws";

describe("contract 6: error codes and statuses", () => {
  it("every base and specific code answers its own status without one being given", () => {
    for (const [code, status] of Object.entries({ ...ERROR_STATUS, ...SPECIFIC_ERROR_STATUS })) {
      expect(new ApiError(code as ErrorCode, "m").status, code).to.equal(status);
    }
  });

  it("every sign-in refusal is a 401 with its own code", () => {
    for (const code of Object.keys(SIGN_IN_FAILURES) as (keyof typeof SIGN_IN_FAILURES)[]) {
      const { status, body } = toErrorResponse(new ApiError(code, SIGN_IN_FAILURES[code]), "req-1");
      expect(status, code).to.equal(401);
      expect(body.error.code).to.equal(code);
    }
  });

  it("an explicit status wins; a specific code takes the status its table names", () => {
    expect(new ApiError("CONFLICT", "m", { status: 410 }).status).to.equal(410);
    expect(new ApiError("DUPLICATE_VAU", "m").status).to.equal(409);
  });

  it("the helpers carry details into the envelope", () => {
    expect(toErrorResponse(conflict("taken", { reason: "POOL_EXISTS" }), "r").body.error).to.deep.equal({
      code: "CONFLICT",
      message: "taken",
      requestId: "r",
      details: { reason: "POOL_EXISTS" },
    });
    expect(toErrorResponse(forbidden("no", { reason: "NOT_REGISTERED" }), "r").body.error.details).to.deep.equal({ reason: "NOT_REGISTERED" });
    expect(Object.keys(toErrorResponse(forbidden("no"), "r").body.error)).to.deep.equal(["code", "message", "requestId"]);
  });

  it("a wait is whole seconds, at least 1, in Retry-After", () => {
    expect([0, 1, 999, 1000, 1001, 59_500].map(secondsToWait)).to.deep.equal([1, 1, 1, 1, 2, 60]);
    expect(rateLimited(7).headers).to.deep.equal({ "Retry-After": "7" });
    expect(rateLimited(0).headers).to.deep.equal({ "Retry-After": "1" });
  });
});
