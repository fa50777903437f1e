// Stack check: the datastore ports (Postgres 5432, Redis 6379) are published on at most one host.
// A backend grows by adding app hosts that reach a managed Postgres and Redis (infra/config.ts);
// datastores published on several hosts would be several unreplicated copies, each an exposed
// port. Containers are grouped by host through their docker provider (its `host`, ssh://user@vm),
// so two providers of one VM count once.
import * as docker from "@pulumi/docker";
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { type Rule, configWithDefaults } from "../lib/rule";
import { stackConfigProperty } from "../lib/stack";

interface Config {
  /** Container or host ports that belong to a datastore. */
  datastorePorts: number[];
}
const defaults: Config = { datastorePorts: [5432, 6379] };

interface Port {
  internal?: number;
  external?: number;
}

/** The host a container runs on: its provider's docker host, else the provider, else the default provider's. */
function hostOf(container: PolicyResource): string {
  const provider = container.provider;
  const host = provider?.props?.host;
  if (typeof host === "string" && host !== "") return host;
  return provider?.urn ?? "the default docker host";
}

export const datastorePortsOneHost: Rule<StackValidationPolicy> = {
  staging: "mandatory",
  stagingReason: "staging's hosts are internet-facing VMs like production's",
  policy: {
    name: "datastore-ports-one-host",
    description: "No two hosts publish a datastore port (5432, 6379 by default) on the host's ports: one host, or none (managed services), serves Postgres and Redis.",
    enforcementLevel: "mandatory",
    configSchema: {
      properties: { ...stackConfigProperty, datastorePorts: { type: "array", items: { type: "number" }, default: defaults.datastorePorts } },
    },
    validateStack: (args, report) => {
      const { datastorePorts } = configWithDefaults(args, defaults);
      const publishing = new Map<string, { container: PolicyResource; ports: number[] }[]>();
      for (const container of args.resources.filter((r) => r.isType(docker.Container))) {
        const ports = ((container.props.ports ?? []) as Port[]).flatMap((p) => [p.internal, p.external]).filter((p): p is number => p !== undefined && datastorePorts.includes(p));
        if (ports.length === 0) continue;
        const host = hostOf(container);
        publishing.set(host, [...(publishing.get(host) ?? []), { container, ports: [...new Set(ports)] }]);
      }
      if (publishing.size < 2) return;
      // Every publishing container is reported (none of the hosts is "the right one").
      for (const [host, found] of publishing) {
        const others = [...publishing.keys()].filter((h) => h !== host).sort();
        for (const { container, ports } of found) {
          report(
            `Container "${container.props.name ?? container.name}" publishes datastore port ${ports.join(", ")} on ${host}, and ${others.join(", ")} ${others.length === 1 ? "publishes" : "publish"} one too. Serve Postgres and Redis from one host at most: make them managed services (twist:database / twist:redis external) and remove the \`ports\` entries.`,
            container.urn,
          );
        }
      }
    },
  },
};
