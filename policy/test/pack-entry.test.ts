// The pack entry as the Pulumi CLI runs it: @pulumi/pulumi's policy-pack runner loads
// policy/index.ts through ts-node (policy/tsconfig.json), the PolicyPack serves the analyzer gRPC
// protocol, and this test plays the engine's side of that protocol.
import { expect } from "chai";
import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";
import type * as analyzerGrpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import type * as analyzerPb from "@pulumi/pulumi/proto/analyzer_pb";
import { packConfigFor, rules } from "../rules";
import { SAMPLE } from "./samples";
import { TYPES, baselineContainer, baselineWorker } from "./harness";

// Use the exact gRPC and protobuf modules the SDK's generated stubs were loaded with.
const sdkRequire = createRequire(require.resolve("@pulumi/pulumi/proto/analyzer_pb"));
const pb: typeof analyzerPb = sdkRequire("./analyzer_pb");
const stubs: typeof analyzerGrpc = sdkRequire("./analyzer_grpc_pb");
const grpc = sdkRequire("@grpc/grpc-js") as typeof import("@grpc/grpc-js");
const { Struct } = sdkRequire("google-protobuf/google/protobuf/struct_pb") as typeof import("google-protobuf/google/protobuf/struct_pb");
const { Empty } = sdkRequire("google-protobuf/google/protobuf/empty_pb") as typeof import("google-protobuf/google/protobuf/empty_pb");

const ROOT = join(__dirname, "..", "..");

function unary<Req, Res>(call: (req: Req, cb: (err: Error | null, res: Res) => void) => unknown, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => call(req, (err, res) => (err ? reject(err) : resolve(res))));
}

describe("policy: pack entry under Pulumi's policy-pack runner (gRPC analyzer)", function () {
  this.timeout(120_000);
  let pack: ChildProcess;
  let client: analyzerGrpc.AnalyzerClient;
  let stderr = "";

  before(async () => {
    pack = spawn(process.execPath, [join(ROOT, "node_modules/@pulumi/pulumi/cmd/run-policy-pack"), "127.0.0.1:0", "."], {
      cwd: join(ROOT, "policy"),
      stdio: ["ignore", "pipe", "pipe"],
    });
    pack.stderr!.on("data", (chunk) => (stderr += chunk));
    const port = await new Promise<string>((resolve, reject) => {
      let out = "";
      pack.stdout!.on("data", (chunk) => {
        out += chunk;
        const line = /^(\d+)\s*$/m.exec(out);
        if (line) resolve(line[1]!);
      });
      pack.on("exit", (code) => reject(new Error(`policy pack exited with ${code} before serving:\n${stderr}`)));
    });
    client = new stubs.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });

  after(() => {
    client?.close();
    if (pack?.pid !== undefined && pack.exitCode === null) process.kill(pack.pid);
  });

  function analyzeRequest(type: string, name: string, stack: string, props: Record<string, unknown>) {
    return new pb.AnalyzeRequest()
      .setType(type)
      .setName(name)
      .setUrn(`urn:pulumi:${stack}::twist::${type}::${name}`)
      .setProperties(Struct.fromJavaScript(props as never))
      .setOptions(new pb.AnalyzerResourceOptions());
  }

  async function diagnostics(req: analyzerPb.AnalyzeRequest) {
    const res = await unary<analyzerPb.AnalyzeRequest, analyzerPb.AnalyzeResponse>(client.analyze.bind(client), req);
    return res.getDiagnosticsList().map((d) => ({ policy: d.getPolicyname(), level: d.getEnforcementlevel(), message: d.getMessage() }));
  }

  it("registers every rule, mandatory by default", async () => {
    const info = await unary<InstanceType<typeof Empty>, analyzerPb.AnalyzerInfo>(client.getAnalyzerInfo.bind(client), new Empty());
    expect(info.getName()).to.equal("twist-crossguard");
    const policies = info.getPoliciesList().map((p) => [p.getName(), p.getEnforcementlevel()]);
    expect(policies).to.deep.equal(rules.map((r) => [r.policy.name, pb.EnforcementLevel.MANDATORY]));
  });

  it("analyzes a resource: a compliant Worker passes, a plaintext secret is a mandatory violation with its fix", async () => {
    expect(await diagnostics(analyzeRequest(TYPES.workersScript, "vau", "production", baselineWorker()))).to.deep.equal([]);
    const worker = baselineWorker();
    worker.bindings = [{ type: "plain_text", name: "UPSTREAM_AUTH", text: SAMPLE.jwt }];
    const found = await diagnostics(analyzeRequest(TYPES.workersScript, "vau", "production", worker));
    expect(found).to.have.length(1);
    expect(found[0]!.policy).to.equal("no-plaintext-secrets");
    expect(found[0]!.level).to.equal(pb.EnforcementLevel.MANDATORY);
    expect(found[0]!.message).to.contain('Worker binding "UPSTREAM_AUTH" is plaintext and its value looks like a JSON Web Token.');
  });

  it("applies policy/config/staging.json levels: images-pinned becomes advisory, secrets stay mandatory", async () => {
    const request = new pb.ConfigureAnalyzerRequest();
    const map = request.getPolicyconfigMap();
    for (const [name, config] of Object.entries(packConfigFor("staging"))) {
      const level = typeof config === "string" ? config : config.enforcementLevel;
      map.set(name, new pb.PolicyConfig().setEnforcementlevel(level === "advisory" ? pb.EnforcementLevel.ADVISORY : pb.EnforcementLevel.MANDATORY).setProperties(new Struct()));
    }
    await unary(client.configure.bind(client), request);
    const container = { ...baselineContainer(), image: "postgres:latest", envs: ["POSTGRES_PASSWORD=x"] };
    const found = await diagnostics(analyzeRequest(TYPES.container, "postgres", "staging", container));
    expect(found.map((d) => [d.policy, d.level])).to.have.deep.members([
      ["no-plaintext-secrets", pb.EnforcementLevel.MANDATORY],
      ["images-pinned", pb.EnforcementLevel.ADVISORY],
    ]);
  });
});
