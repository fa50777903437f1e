// No secret travels in a plaintext slot: Worker plain_text bindings, container env and command
// lines, @pulumi/command environments. Secrets reach Workers as secret_text bindings and containers
// as files (uploaded from a Pulumi secret), never as readable configuration.
import * as cloudflare from "@pulumi/cloudflare";
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import { type ReportViolation, type ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { type Rule, configWithDefaults } from "../lib/rule";
import { isSecretLikeName, secretLikeValue, splitEnvEntry } from "../lib/secrets";
import { stackConfigProperty } from "../lib/stack";

interface Config {
  /** Names that look secret but are not (e.g. a public key id); each one is a reviewed exception. */
  allowedPlaintextNames: string[];
}
const defaults: Config = { allowedPlaintextNames: [] };

/** Reports a name/value pair that sits in a plaintext slot and looks secret. */
function checkPair(where: string, name: string, value: unknown, fix: string, config: Config, report: ReportViolation): void {
  if (config.allowedPlaintextNames.includes(name)) return;
  if (isSecretLikeName(name)) {
    report(`${where} "${name}" is plaintext but its name says it holds a secret. ${fix}`);
    return;
  }
  const reason = secretLikeValue(value);
  if (reason) report(`${where} "${name}" is plaintext and its value looks like ${reason}. ${fix}`);
}

const WORKER_FIX = "Declare it as a `secret_text` binding whose text comes from `config.requireSecret` (set it with `pulumi config set --secret`).";
const CONTAINER_FIX =
  "Deliver it as a file instead: a container `uploads` entry whose content is the Pulumi secret, read by the service at start (e.g. <NAME>_FILE=/run/secrets/<name>).";
const COMMAND_FIX =
  "Do not pass secrets through the command environment: copy them to the host as a file from the Pulumi secret (remote.CopyToRemote) with 0600 permissions and read it there.";

export const noPlaintextSecrets: Rule<ResourceValidationPolicy> = {
  staging: "mandatory",
  stagingReason: "a leaked staging secret is still a leaked secret (and often shared with tooling)",
  policy: {
    name: "no-plaintext-secrets",
    description:
      "Secrets must not sit in plaintext configuration: no plain_text Worker binding, container env or command line, or command environment whose name or value looks like a secret (JWTs, PEM keys, connection strings with passwords, high-entropy strings). Use secret_text bindings for Workers and secret files for containers and hosts.",
    enforcementLevel: "mandatory",
    configSchema: {
      properties: {
        ...stackConfigProperty,
        allowedPlaintextNames: { type: "array", items: { type: "string" }, default: [] },
      },
    },
    validateResource: [
      validateResourceOfType(cloudflare.WorkersScript, (script, args, report) => {
        const config = configWithDefaults(args, defaults);
        for (const binding of script.bindings ?? []) {
          if (binding.type !== "plain_text") continue;
          checkPair("Worker binding", binding.name, binding.text, WORKER_FIX, config, report);
        }
      }),
      validateResourceOfType(docker.Container, (container, args, report) => {
        const config = configWithDefaults(args, defaults);
        for (const entry of container.envs ?? []) {
          const { name, value } = splitEnvEntry(entry);
          checkPair("Container env", name, value, CONTAINER_FIX, config, report);
        }
        for (const arg of [...(container.entrypoints ?? []), ...(container.command ?? [])]) {
          const reason = secretLikeValue(arg, { entropyCheck: false });
          if (reason) report(`Container command line contains ${reason}. ${CONTAINER_FIX}`);
        }
      }),
      validateResourceOfType(command.remote.Command, (cmd, args, report) => checkCommand(cmd, args, report)),
      validateResourceOfType(command.local.Command, (cmd, args, report) => checkCommand(cmd, args, report)),
    ],
  },
};

function checkCommand(
  cmd: { environment?: Record<string, string>; create?: string; update?: string; delete?: string },
  args: { getConfig<T extends object>(): T },
  report: ReportViolation,
): void {
  const config = configWithDefaults(args, defaults);
  for (const [name, value] of Object.entries(cmd.environment ?? {})) {
    checkPair("Command environment variable", name, value, COMMAND_FIX, config, report);
  }
  for (const [field, script] of Object.entries({ create: cmd.create, update: cmd.update, delete: cmd.delete })) {
    const reason = secretLikeValue(script, { entropyCheck: false });
    if (reason) report(`Command \`${field}\` script contains ${reason}. ${COMMAND_FIX}`);
  }
}
