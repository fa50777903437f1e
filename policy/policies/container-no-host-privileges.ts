// No container gets the host: not privileged, not on the host network, not sharing the host's PID,
// IPC or user namespaces, no dangerous capabilities, no Docker socket.
import * as docker from "@pulumi/docker";
import { type ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import type { Rule } from "../lib/rule";
import { stackConfigProperty } from "../lib/stack";

const DANGEROUS_CAPABILITIES = new Set(["ALL", "SYS_ADMIN", "SYS_PTRACE", "SYS_MODULE", "NET_ADMIN", "DAC_READ_SEARCH", "SYS_RAWIO"]);
const DOCKER_SOCKET = /(^|\/)docker\.sock$/;

export const containerNoHostPrivileges: Rule<ResourceValidationPolicy> = {
  staging: "mandatory",
  stagingReason: "a container escape on the staging VM is a host compromise",
  policy: {
    name: "container-no-host-privileges",
    description:
      "Containers must not be privileged, use the host network, share the host PID, IPC or user namespace, add powerful capabilities, or mount the Docker socket. Run them unprivileged on the private network.",
    enforcementLevel: "mandatory",
    configSchema: { properties: { ...stackConfigProperty } },
    validateResource: validateResourceOfType(docker.Container, (c, args, report) => {
      const label = `Container "${c.name ?? args.name}"`;
      if (c.privileged) report(`${label} is privileged. Remove \`privileged: true\`; grant only the specific capability it needs, if any.`);
      if (c.networkMode === "host") report(`${label} uses the host network. Remove \`networkMode: "host"\` and attach it to the private network with \`networksAdvanced\`.`);
      for (const [field, value] of [
        ["pidMode", c.pidMode],
        ["ipcMode", c.ipcMode],
        ["usernsMode", c.usernsMode],
        ["cgroupnsMode", c.cgroupnsMode],
      ] as const) {
        if (value === "host") report(`${label} shares the host's namespace through \`${field}: "host"\`. Remove it so the container keeps its own.`);
      }
      for (const cap of c.capabilities?.adds ?? []) {
        const bare = cap.toUpperCase().replace(/^CAP_/, "");
        if (DANGEROUS_CAPABILITIES.has(bare)) report(`${label} adds capability ${cap}, which amounts to host access. Drop it from \`capabilities.adds\`.`);
      }
      const hostPaths = [...(c.volumes ?? []).map((v) => v.hostPath), ...(c.mounts ?? []).map((m) => m.source)];
      for (const path of hostPaths) {
        if (path && DOCKER_SOCKET.test(path)) report(`${label} mounts the Docker socket (${path}), which gives root on the host. Remove the mount.`);
      }
    }),
  },
};
