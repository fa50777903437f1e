// Postgres and Redis (and any other data store) are reached over the private Docker network only:
// they publish no port on the host, so a firewall mistake cannot expose them.
import * as docker from "@pulumi/docker";
import { type ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { DATASTORE_IMAGE } from "../lib/images";
import type { Rule } from "../lib/rule";
import { stackConfigProperty } from "../lib/stack";

export const datastoreNoHostPorts: Rule<ResourceValidationPolicy> = {
  staging: "mandatory",
  stagingReason: "staging runs on an internet-facing VM like production",
  policy: {
    name: "datastore-no-host-ports",
    description:
      "Postgres, Redis and other data-store containers must publish no host ports (no `ports`, no `publishAllPorts`). Services reach them by container name on the private network; operators use `docker exec` over SSH.",
    enforcementLevel: "mandatory",
    configSchema: { properties: { ...stackConfigProperty } },
    validateResource: validateResourceOfType(docker.Container, (container, args, report) => {
      const identity = [container.image, container.name ?? "", args.name].find((s) => DATASTORE_IMAGE.test(s));
      if (identity === undefined) return;
      const label = `Data-store container "${container.name ?? args.name}"`;
      for (const port of container.ports ?? []) {
        const host = port.external === undefined ? "a random host port" : `host port ${port.ip ? `${port.ip}:` : ""}${port.external}`;
        report(
          `${label} publishes container port ${port.internal} on ${host}. Remove the \`ports\` entry; reach it over the private network by container name (or \`docker exec\` over SSH).`,
        );
      }
      if (container.publishAllPorts) {
        report(`${label} sets publishAllPorts, which publishes every exposed port on the host. Remove \`publishAllPorts\`.`);
      }
    }),
  },
};
