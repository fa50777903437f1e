// Contract 1 makes the JWT sub a base58 wallet address. A token carrying the right signature but any
// other subject is refused at authentication (401 TOKEN_CLAIMS); it once reached the reward message
// validation and answered 500.
import { expect } from "chai";
import { signJwt } from "@twist/shared/jwt";
import { startEdge, type RunningEdge } from "../local/miniflare";
import { BackendDouble, errorOf, JWT_KEY_SET, send, TEST_SECRETS, vauBody } from "./support";

describe("edge: token subject must be a wallet address", function () {
  let edge: RunningEdge;
  const backend = new BackendDouble();

  before(async () => {
    await backend.start();
    edge = await startEdge({ vars: { ...TEST_SECRETS, ENVIRONMENT: "staging", BACKEND_URL: backend.url } });
  });
  after(async () => {
    await edge?.stop();
    await backend.stop();
  });

  for (const sub of ["' OR '1'='1'; --", "not-a-wallet", "1".repeat(31)]) {
    it(`a validly signed token with sub ${JSON.stringify(sub)} is 401 TOKEN_CLAIMS on both ingest routes`, async () => {
      const token = await signJwt({ sub, walletAddress: sub, iss: "twist-auth", aud: "twist-api", iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 600 }, JWT_KEY_SET);
      for (const [path, body] of [["/api/v1/vau", vauBody()], ["/api/v1/vau/batch", { vaus: [vauBody()] }]] as const) {
        const res = await send(edge, body, { token, path });
        expect(res.status, path).to.equal(401);
        const error = await errorOf(res);
        expect(error.code).to.equal("UNAUTHORIZED");
        expect(error.details).to.deep.equal({ reason: "TOKEN_CLAIMS" });
      }
    });
  }
});
