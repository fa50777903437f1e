import { expect } from "chai";
import { datastoreNoHostPorts as rule } from "../policies/datastore-no-host-ports";
import { TYPES, baselineContainer, baselineDatastore, check } from "./harness";

describe("policy: datastore-no-host-ports", () => {
  it("passes Postgres and Redis on the private network only", async () => {
    expect(await check(rule, TYPES.container, baselineDatastore())).to.deep.equal([]);
    expect(await check(rule, TYPES.container, { ...baselineDatastore(), name: "twist-redis-production", image: "redis:7.4.1-alpine" })).to.deep.equal([]);
  });

  it("leaves other containers' ports alone (the reverse proxy publishes 443)", async () => {
    expect(await check(rule, TYPES.container, { ...baselineContainer(), name: "twist-proxy", image: "caddy:2.8.4", ports: [{ internal: 443, external: 443 }] })).to.deep.equal([]);
  });

  it("fails Postgres publishing its port on the host", async () => {
    expect(await check(rule, TYPES.container, { ...baselineDatastore(), ports: [{ internal: 5432, external: 5432 }] })).to.deep.equal([
      'Data-store container "twist-postgres-production" publishes container port 5432 on host port 5432. Remove the `ports` entry; reach it over the private network by container name (or `docker exec` over SSH).',
    ]);
  });

  it("fails Redis publishing on loopback or a random port: any host port counts", async () => {
    const redis = { ...baselineDatastore(), name: "twist-redis-production", image: "redis:7.4.1-alpine" };
    const messages = await check(rule, TYPES.container, { ...redis, ports: [{ internal: 6379, external: 6379, ip: "127.0.0.1" }, { internal: 6380 }] });
    expect(messages).to.have.length(2);
    expect(messages[0]).to.contain("on host port 127.0.0.1:6379");
    expect(messages[1]).to.contain("on a random host port");
  });

  it("fails publishAllPorts on a data store", async () => {
    expect((await check(rule, TYPES.container, { ...baselineDatastore(), publishAllPorts: true }))[0]).to.contain("sets publishAllPorts");
  });

  it("recognises a data store by image even when the container name says nothing", async () => {
    const messages = await check(rule, TYPES.container, { image: "docker.io/library/postgres:16.4", name: "db", ports: [{ internal: 5432, external: 15432 }] });
    expect(messages).to.have.length(1);
    expect(messages[0]).to.contain('Data-store container "db"');
  });
});
