import { expect } from "chai";
import { noPlaintextSecrets as rule } from "../policies/no-plaintext-secrets";
import { TYPES, baselineCommand, baselineContainer, baselineWorker, check } from "./harness";
import { SAMPLE } from "./samples";

type Binding = { type: string; name: string; text?: string };

function workerWith(binding: Binding) {
  const worker = baselineWorker();
  worker.bindings = [...(worker.bindings as Binding[]), binding];
  return worker;
}

describe("policy: no-plaintext-secrets", () => {
  it("passes the baseline Worker, container and commands", async () => {
    expect(await check(rule, TYPES.workersScript, baselineWorker())).to.deep.equal([]);
    expect(await check(rule, TYPES.container, baselineContainer())).to.deep.equal([]);
    expect(await check(rule, TYPES.remoteCommand, baselineCommand())).to.deep.equal([]);
    expect(await check(rule, TYPES.localCommand, baselineCommand())).to.deep.equal([]);
  });

  it("ignores resources of other types", async () => {
    expect(await check(rule, TYPES.r2Bucket, { name: "JWT_KEYS", text: SAMPLE.jwt })).to.deep.equal([]);
  });

  it("accepts a secret-looking value in a secret_text binding", async () => {
    expect(await check(rule, TYPES.workersScript, workerWith({ type: "secret_text", name: "VAU_SIGNING_KEYS", text: SAMPLE.base64Key }))).to.deep.equal([]);
  });

  it("fails a plain_text binding with a secret-like name", async () => {
    const messages = await check(rule, TYPES.workersScript, workerWith({ type: "plain_text", name: "VAU_SIGNING_KEYS", text: "x" }));
    expect(messages).to.deep.equal([
      'Worker binding "VAU_SIGNING_KEYS" is plaintext but its name says it holds a secret. Declare it as a `secret_text` binding whose text comes from `config.requireSecret` (set it with `pulumi config set --secret`).',
    ]);
  });

  for (const [kind, value, reason] of [
    ["a JWT", SAMPLE.jwt, "a JSON Web Token"],
    ["a PEM key", SAMPLE.pem, "a PEM private key"],
    ["a connection string with a password", SAMPLE.connectionString, "a connection string with a password"],
    ["a high-entropy string", SAMPLE.base64Key, "a high-entropy string (a key or token)"],
  ] as const) {
    it(`fails a plain_text binding whose value is ${kind}`, async () => {
      const messages = await check(rule, TYPES.workersScript, workerWith({ type: "plain_text", name: "BACKEND_CONFIG", text: value }));
      expect(messages).to.have.length(1);
      expect(messages[0]).to.contain(`Worker binding "BACKEND_CONFIG" is plaintext and its value looks like ${reason}.`);
      expect(messages[0]).to.contain("secret_text");
    });
  }

  it("fails a container env whose name is secret-like, naming the fix", async () => {
    const container = baselineContainer();
    container.envs = [...(container.envs as string[]), "JWT_KEYS=k1:abc"];
    const messages = await check(rule, TYPES.container, container);
    expect(messages).to.have.length(1);
    expect(messages[0]).to.match(/^Container env "JWT_KEYS" is plaintext but its name says it holds a secret\. Deliver it as a file instead/);
  });

  it("fails a container env whose value is a connection string with a password", async () => {
    const container = baselineContainer();
    container.envs = [`DATABASE_URL=${SAMPLE.connectionString}`];
    expect(await check(rule, TYPES.container, container))
      .to.have.length(1)
      .and.to.satisfy((m: string[]) => m[0]!.includes('Container env "DATABASE_URL"'));
  });

  it("fails a container command line that carries a secret", async () => {
    const container = baselineContainer();
    container.command = ["node", "main.js", `--database=${SAMPLE.connectionString}`];
    const messages = await check(rule, TYPES.container, container);
    expect(messages).to.have.length(1);
    expect(messages[0]).to.contain("Container command line contains a connection string with a password.");
  });

  it("fails a command environment variable with a secret-like name (remote and local)", async () => {
    for (const type of [TYPES.remoteCommand, TYPES.localCommand]) {
      const cmd = baselineCommand();
      cmd.environment = { ...(cmd.environment as object), POSTGRES_PASSWORD: "x" };
      const messages = await check(rule, type, cmd);
      expect(messages).to.have.length(1);
      expect(messages[0]).to.match(/^Command environment variable "POSTGRES_PASSWORD" is plaintext but its name says it holds a secret\. .*CopyToRemote/);
    }
  });

  it("fails a command environment value that is a JWT and a create script with a PEM key", async () => {
    const cmd = baselineCommand();
    cmd.environment = { BOOTSTRAP: SAMPLE.jwt };
    cmd.create = `cat > /opt/key <<EOF\n${SAMPLE.pem}\nEOF`;
    const messages = await check(rule, TYPES.remoteCommand, cmd);
    expect(messages).to.have.length(2);
    expect(messages[0]).to.contain('Command environment variable "BOOTSTRAP" is plaintext and its value looks like a JSON Web Token.');
    expect(messages[1]).to.contain("Command `create` script contains a PEM private key.");
  });

  it("reports every offending binding and env entry, not only the first", async () => {
    const worker = baselineWorker();
    worker.bindings = [
      { type: "plain_text", name: "JWT_KEYS", text: "a" },
      { type: "plain_text", name: "SERVICE_SIGNING_KEYS", text: "b" },
      { type: "plain_text", name: "NOTE", text: SAMPLE.jwt },
    ];
    expect(await check(rule, TYPES.workersScript, worker)).to.have.length(3);
  });

  it("honours the reviewed allow-list of plaintext names", async () => {
    const worker = workerWith({ type: "plain_text", name: "PUBLIC_KEY", text: "not secret" });
    expect(await check(rule, TYPES.workersScript, worker)).to.have.length(1);
    expect(await check(rule, TYPES.workersScript, worker, { config: { "no-plaintext-secrets": { allowedPlaintextNames: ["PUBLIC_KEY"] } } })).to.deep.equal([]);
  });
});
