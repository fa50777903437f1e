// A datastore URL that leaves the host (a managed Postgres or Redis) requires TLS: sslmode=require
// or stricter for Postgres, rediss:// for Redis. The URLs travel as secret files and command stdin;
// a policy sees their values (not whether they are Pulumi secrets: the program's tests check that).
// URLs to a container network alias (`postgres`, `redis`) stay on the host's internal network.
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import { type ReportViolation, type ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { asDatastoreUrl, datastoreKind, staysOnHost, tlsProblem } from "../lib/datastore-urls";
import type { Rule } from "../lib/rule";
import { stackConfigProperty } from "../lib/stack";

const KIND_NAMES = { postgres: "Postgres", redis: "Redis" } as const;

function checkUrl(where: string, value: unknown, report: ReportViolation): void {
  const url = asDatastoreUrl(value);
  if (!url || staysOnHost(url)) return;
  const problem = tlsProblem(url);
  if (!problem) return;
  const kind = KIND_NAMES[datastoreKind(url)!];
  report(
    `${where} connects to a ${kind} server off this host without requiring TLS: its URL ${problem.reason}. ${problem.fix[0]!.toUpperCase()}${problem.fix.slice(1)} (twist:${kind === "Postgres" ? "databaseUrl" : "redisUrl"}).`,
  );
}

export const externalDatastoreTls: Rule<ResourceValidationPolicy> = {
  staging: "mandatory",
  stagingReason: "staging's managed database is reached over the internet like production's",
  policy: {
    name: "external-datastore-tls",
    description:
      "A Postgres or Redis URL that leaves the host (a managed service) must require TLS: sslmode=require, verify-ca or verify-full for Postgres, rediss:// for Redis. Checked in container secret files and env, and in command stdin and environment.",
    enforcementLevel: "mandatory",
    configSchema: { properties: { ...stackConfigProperty } },
    validateResource: [
      validateResourceOfType(docker.Container, (container, args, report) => {
        const label = `Container "${container.name ?? args.name}"`;
        for (const upload of container.uploads ?? []) checkUrl(`${label} file ${upload.file}`, upload.content, report);
        for (const entry of container.envs ?? []) checkUrl(`${label} env ${entry.split("=")[0]}`, entry.slice(entry.indexOf("=") + 1), report);
      }),
      validateResourceOfType(command.remote.Command, (cmd, args, report) => checkCommand(`Command "${args.name}"`, cmd, report)),
      validateResourceOfType(command.local.Command, (cmd, args, report) => checkCommand(`Command "${args.name}"`, cmd, report)),
    ],
  },
};

function checkCommand(label: string, cmd: { stdin?: string; environment?: Record<string, string> }, report: ReportViolation): void {
  checkUrl(`${label} stdin`, cmd.stdin, report);
  for (const [name, value] of Object.entries(cmd.environment ?? {})) checkUrl(`${label} environment ${name}`, value, report);
}
