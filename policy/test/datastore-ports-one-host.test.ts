import { expect } from "chai";
import { datastorePortsOneHost as rule } from "../policies/datastore-ports-one-host";
import type { RecordedResource } from "../offline";
import { TYPES, baselineContainer, baselineDatastore, checkStack, resource } from "./harness";

const DOCKER_PROVIDER = "pulumi:providers:docker";

/** Two hosts, each a docker provider: Postgres on the first (no ports), an app container on each. */
function twoHosts(): RecordedResource[] {
  const a = resource(DOCKER_PROVIDER, "docker", { host: "ssh://twist@203.0.113.10:22" });
  const b = resource(DOCKER_PROVIDER, "b-docker", { host: "ssh://twist@203.0.113.11:22" });
  const on = (p: RecordedResource) => ({ provider: `${p.urn}::${p.name}-id` });
  return [
    a,
    b,
    resource(TYPES.container, "postgres", baselineDatastore(), "production", on(a)),
    resource(TYPES.container, "auth", baselineContainer(), "production", on(a)),
    resource(TYPES.container, "b-auth", baselineContainer(), "production", on(b)),
  ];
}

/** The stack with one container changed. */
const changed = (resources: RecordedResource[], name: string, inputs: Record<string, unknown>) =>
  resources.map((r) => (r.name === name ? { ...r, inputs: { ...r.inputs, ...inputs } } : r));

describe("policy: datastore-ports-one-host (stack)", () => {
  it("passes two hosts that publish no datastore port", async () => {
    expect(await checkStack(rule, twoHosts())).to.deep.equal([]);
  });

  it("leaves one host publishing a datastore port to datastore-no-host-ports: this rule counts hosts", async () => {
    expect(await checkStack(rule, changed(twoHosts(), "postgres", { ports: [{ internal: 5432, external: 5432, ip: "10.0.0.10" }] }))).to.deep.equal([]);
  });

  it("fails two hosts publishing a datastore port, reporting each container with the other host", async () => {
    const stack = changed(changed(twoHosts(), "postgres", { ports: [{ internal: 5432, external: 5432 }] }), "b-auth", { ports: [{ internal: 6379, external: 16379 }] });
    const fix = "Serve Postgres and Redis from one host at most: make them managed services (twist:database / twist:redis external) and remove the `ports` entries.";
    expect(await checkStack(rule, stack)).to.have.members([
      `Container "twist-postgres-production" publishes datastore port 5432 on ssh://twist@203.0.113.10:22, and ssh://twist@203.0.113.11:22 publishes one too. ${fix}`,
      `Container "twist-auth-production" publishes datastore port 6379 on ssh://twist@203.0.113.11:22, and ssh://twist@203.0.113.10:22 publishes one too. ${fix}`,
    ]);
  });

  it("counts a datastore port by its host side too (a forwarder publishing 5432 for anything)", async () => {
    const stack = changed(changed(twoHosts(), "auth", { ports: [{ internal: 8080, external: 5432 }] }), "b-auth", { ports: [{ internal: 5432 }] });
    expect(await checkStack(rule, stack)).to.have.length(2);
  });

  it("counts two providers of the same VM as one host", async () => {
    const stack = twoHosts().map((r) => (r.name === "b-docker" ? { ...r, inputs: { host: "ssh://twist@203.0.113.10:22" } } : r));
    const both = changed(changed(stack, "postgres", { ports: [{ internal: 5432, external: 5432 }] }), "b-auth", { ports: [{ internal: 6379, external: 6379 }] });
    expect(await checkStack(rule, both)).to.deep.equal([]);
  });

  it("takes other datastore ports from the pack config", async () => {
    const stack = changed(changed(twoHosts(), "auth", { ports: [{ internal: 3306, external: 3306 }] }), "b-auth", { ports: [{ internal: 3306, external: 3306 }] });
    expect(await checkStack(rule, stack)).to.deep.equal([]);
    expect(await checkStack(rule, stack, { config: { "datastore-ports-one-host": { datastorePorts: [3306] } } })).to.have.length(2);
  });
});
