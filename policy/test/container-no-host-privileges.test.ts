import { expect } from "chai";
import { containerNoHostPrivileges as rule } from "../policies/container-no-host-privileges";
import { TYPES, baselineContainer, check } from "./harness";

const withChange = (change: Record<string, unknown>) => check(rule, TYPES.container, { ...baselineContainer(), ...change });

describe("policy: container-no-host-privileges", () => {
  it("passes an unprivileged container on the private network", async () => {
    expect(await check(rule, TYPES.container, baselineContainer())).to.deep.equal([]);
    expect(await withChange({ capabilities: { adds: ["NET_BIND_SERVICE"], drops: ["ALL"] } })).to.deep.equal([]);
  });

  it("fails a privileged container", async () => {
    expect(await withChange({ privileged: true })).to.deep.equal([
      'Container "twist-auth-production" is privileged. Remove `privileged: true`; grant only the specific capability it needs, if any.',
    ]);
  });

  it("fails the host network", async () => {
    expect((await withChange({ networkMode: "host" }))[0]).to.contain('uses the host network. Remove `networkMode: "host"`');
  });

  for (const field of ["pidMode", "ipcMode", "usernsMode", "cgroupnsMode"]) {
    it(`fails ${field}: host`, async () => {
      expect(await withChange({ [field]: "host" })).to.deep.equal([
        `Container "twist-auth-production" shares the host's namespace through \`${field}: "host"\`. Remove it so the container keeps its own.`,
      ]);
    });
  }

  it("fails powerful capabilities", async () => {
    const messages = await withChange({ capabilities: { adds: ["CAP_SYS_ADMIN", "ALL"] } });
    expect(messages).to.have.length(2);
    expect(messages[0]).to.contain("adds capability CAP_SYS_ADMIN");
  });

  it("fails a Docker socket mount, as a volume or a bind mount", async () => {
    expect((await withChange({ volumes: [{ hostPath: "/var/run/docker.sock", containerPath: "/var/run/docker.sock" }] }))[0]).to.contain("mounts the Docker socket");
    expect((await withChange({ mounts: [{ type: "bind", source: "/run/docker.sock", target: "/docker.sock" }] }))[0]).to.contain("mounts the Docker socket");
  });

  it("reports every privilege a container takes", async () => {
    expect(await withChange({ privileged: true, networkMode: "host", pidMode: "host", ipcMode: "host" })).to.have.length(4);
  });
});
