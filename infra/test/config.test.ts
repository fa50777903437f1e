import { expect } from "chai";
import { readWorkerBundle } from "../components/edge";
import { evaluateProgram } from "../offline/evaluate";

/** Evaluates staging with config changes and returns the error message (fails if it succeeds). */
async function failure(changes: { config?: Record<string, string>; unset?: string[]; stack?: string }): Promise<string> {
  try {
    await evaluateProgram({ stack: changes.stack ?? "staging", config: changes.config, unset: changes.unset });
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error("expected the evaluation to fail");
}

const EDGE_VARS = { RATE_LIMIT_WALLET_PER_MINUTE: "120", RATE_LIMIT_DEVICE_PER_MINUTE: "60", VAU_MAX_AGE_SECONDS: "300", MAX_EARNED_PER_VAU: "1000000000" };

describe("infra stack configuration errors", () => {
  it("names a missing plain key", async () => {
    expect(await failure({ unset: ["twist:vmHost"] })).to.match(/twist:vmHost: is required/);
  });

  it("names a malformed plain key", async () => {
    const message = await failure({ config: { "twist:cloudflareAccountId": "not-an-id" } });
    expect(message).to.match(/twist:cloudflareAccountId: must be a 32-character/);
  });

  it("names every bad key at once", async () => {
    const message = await failure({ unset: ["twist:zoneName"], config: { "twist:vmSshPort": "ssh", "twist:settlementAdapter": "paypal" } });
    expect(message).to.contain("twist:zoneName: is required");
    expect(message).to.contain("twist:vmSshPort: must be a TCP port");
    expect(message).to.contain("twist:settlementAdapter: must be one of ledger, solana");
  });

  it("rejects a hostname outside the zone", async () => {
    expect(await failure({ config: { "twist:apiHostname": "api.elsewhere.example" } })).to.match(/twist:apiHostname: must be inside the zone twist\.example/);
  });

  it("names a bad, missing or undeclared Worker variable", async () => {
    const bad = await failure({ config: { "twist:edgeVars": JSON.stringify({ ...EDGE_VARS, RATE_LIMIT_WALLET_PER_MINUTE: "-5" }) } });
    expect(bad).to.match(/twist:edgeVars\.RATE_LIMIT_WALLET_PER_MINUTE: must be a positive integer/);
    const { VAU_MAX_AGE_SECONDS: _omitted, ...rest } = EDGE_VARS;
    expect(await failure({ config: { "twist:edgeVars": JSON.stringify(rest) } })).to.match(/twist:edgeVars\.VAU_MAX_AGE_SECONDS: is required/);
    expect(await failure({ config: { "twist:edgeVars": JSON.stringify({ ...EDGE_VARS, DEBUG: "1" }) } })).to.match(/twist:edgeVars\.DEBUG: is not a variable the Worker declares/);
    expect(await failure({ config: { "twist:edgeVars": "not json" } })).to.match(/twist:edgeVars: must be an object/);
  });

  it("names a missing secret and says to set it with --secret", async () => {
    const message = await failure({ unset: ["twist:jwtKeys", "twist:vmSshPrivateKey"] });
    expect(message).to.contain("twist:jwtKeys: is required (pulumi config set --secret twist:jwtKeys");
    expect(message).to.contain("twist:vmSshPrivateKey: is required");
  });

  it("names a malformed secret without printing its value", async () => {
    const value = "no-kid-separator-here-0123456789";
    const message = await failure({ config: { "twist:jwtKeys": value } });
    expect(message).to.match(/twist:jwtKeys: each entry must be kid:secret/);
    expect(message).not.to.contain(value);
    const weak = await failure({ config: { "twist:postgresPassword": "short" } });
    expect(weak).to.match(/twist:postgresPassword: must be at least 20 characters/);
    expect(weak).not.to.contain('short"');
  });

  it("requires the Solana settings only with the solana adapter", async () => {
    const message = await failure({ config: { "twist:settlementAdapter": "solana" } });
    expect(message).to.contain("twist:solanaRpcUrl: is required");
    expect(message).to.contain("twist:twistMint: is required");
    const ok = await evaluateProgram({
      stack: "staging",
      config: { "twist:settlementAdapter": "solana", "twist:solanaRpcUrl": "https://api.devnet.solana.com", "twist:twistMint": "So11111111111111111111111111111111111111112" },
    });
    const influencer = ok.resources.find((r) => r.name === "influencer")!;
    expect((influencer.inputs.uploads as { file: string }[]).map((u) => u.file)).to.include("/run/secrets/SOLANA_PAYER_SECRET_KEY");
    expect(influencer.inputs.envs).to.include("SETTLEMENT_ADAPTER=solana");
  });

  it("has no stack other than staging and production", async () => {
    expect(await failure({ stack: "dev" })).to.match(/no stack config file Pulumi\.dev\.yaml/);
  });

  it("stops with a build hint when the Worker bundle is missing", () => {
    expect(() => readWorkerBundle("/nonexistent/dist/edge/index.js")).to.throw(/does not exist: run `npm run build`/);
  });
});

describe("infra config: the sign-in domain", function () {
  this.timeout(60_000);
  const authEnv = async (config?: Record<string, string>) => {
    const { resources } = await evaluateProgram({ stack: "staging", config });
    const auth = resources.find((r) => r.type === "docker:index/container:Container" && r.name === "auth");
    return (auth!.inputs.envs as string[]).filter((e) => e.startsWith("SIWS_"));
  };

  it("defaults to the public auth hostname", async () => {
    expect(await authEnv()).to.include.members(["SIWS_DOMAIN=auth-staging.twist.example", "SIWS_URI=https://auth-staging.twist.example"]);
  });

  it("uses twist:siwsDomain, the app users sign in from, when set", async () => {
    expect(await authEnv({ "twist:siwsDomain": "app.twist.example" })).to.include.members(["SIWS_DOMAIN=app.twist.example", "SIWS_URI=https://app.twist.example"]);
    expect(await failure({ config: { "twist:siwsDomain": "https://app.twist.example/" } })).to.match(/twist:siwsDomain: must be the hostname of the app users sign in from/);
  });
});
