// Robustness of the auth service: every route of docs/api/auth.yaml gets hostile input (cases.ts);
// no answer may be 5xx and every error is the contract 6 envelope with a 4xx status (probe.ts).
import { expect } from "chai";
import type { Server } from "node:http";
import { signIdentityToken } from "@twist/shared/jwt";
import { parseJwtKeySet } from "@twist/shared/keys";
import { BODY_LIMIT_BYTES as AUTH_BODY_LIMIT } from "../../runtime/auth/src/app";
import { newWallet as newAuthWallet, startService, JWT_KEYS as AUTH_JWT_KEYS, type TestService } from "../../runtime/auth/test/support";
import { routeProbes, type ServiceUnderTest } from "./cases";
import { committed, type Documented, methodsByTemplate, openApiRoutes, type Route } from "./openapi";
import { withRequestSchemas } from "@twist/service";
import { close, expectClean, listen, runProbes } from "./probe";

describe("fuzz: no server errors — auth (every route of docs/api/auth.yaml)", () => {
  // The operations, for one test each; their request schemas once the app has mounted its routes.
  const listed = openApiRoutes(committed("docs/api/auth.yaml")).routes;
  let routes: Route[] = [];
  let resolve: Documented["resolve"];
  const keySet = parseJwtKeySet(AUTH_JWT_KEYS);
  let service: TestService;
  let server: Server;
  let token: string;

  before(async () => {
    service = await startService("fuzz");
    ({ routes, resolve } = openApiRoutes(withRequestSchemas(committed("docs/api/auth.yaml"), service.app)));
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

  for (const { method, template } of listed) {
    it(`${method} ${template}: never 5xx, errors are envelopes`, async function () {
      const route = routes.find((r) => r.method === method && r.template === template)!;
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
