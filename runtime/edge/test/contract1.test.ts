// Contract 1 at the edge. The JWT sub is a base58 wallet address: a token carrying the right
// signature but any other subject is refused at authentication (401 TOKEN_CLAIMS; it once reached
// the reward message validation and answered 500). And the Authorization header follows the shared
// rules (vectors/authorization-header.json) on the real ingest path: accepted earns, refused is 401.
import { expect } from "chai";
import { signJwt } from "@twist/shared/jwt";
import { startEdge, type RunningEdge } from "../local/miniflare";
import { authorizationHeaderCases } from "../../../test/support/vectors";
import { BackendDouble, errorOf, JWT_KEY_SET, newWallet, send, TEST_SECRETS, tokenFor, vauBody } from "./support";

describe("edge: contract 1 (token subject, Authorization header)", () => {
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
      const token = await signJwt(
        { sub, walletAddress: sub, iss: "twist-auth", aud: "twist-api", iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 600 },
        JWT_KEY_SET,
      );
      for (const [path, body] of [
        ["/api/v1/vau", vauBody()],
        ["/api/v1/vau/batch", { vaus: [vauBody()] }],
      ] as const) {
        const res = await send(edge, body, { token, path });
        expect(res.status, path).to.equal(401);
        const error = await errorOf(res);
        expect(error.code).to.equal("UNAUTHORIZED");
        expect(error.details).to.deep.equal({ reason: "TOKEN_CLAIMS" });
      }
    });
  }

  for (const c of authorizationHeaderCases()) {
    it(`Authorization header vector "${c.name}": ${c.accepted ? "200" : "401"}`, async () => {
      const header = c.header(await tokenFor(newWallet()));
      const res = await send(edge, vauBody(), { token: null, headers: header === null ? {} : { authorization: header } });
      if (c.accepted) {
        expect(res.status, await res.clone().text()).to.equal(200);
      } else {
        expect(res.status).to.equal(401);
        expect((await errorOf(res)).code).to.equal("UNAUTHORIZED");
      }
    });
  }
});
