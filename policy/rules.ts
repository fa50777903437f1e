// Every rule of the pack, in the order the docs list them. The pack entry (index.ts) and the
// offline runner (offline.ts) both read this list, so they run the same policy objects.
import type { PolicyPackConfig } from "@pulumi/policy";
import { apiTokenLeastPrivilege } from "./policies/api-token-least-privilege";
import { containerNoHostPrivileges } from "./policies/container-no-host-privileges";
import { datastoreNoHostPorts } from "./policies/datastore-no-host-ports";
import { datastorePortsOneHost } from "./policies/datastore-ports-one-host";
import { externalDatastoreTls } from "./policies/external-datastore-tls";
import { imagesPinned } from "./policies/images-pinned";
import { noPlaintextSecrets } from "./policies/no-plaintext-secrets";
import { productionAuditBucket } from "./policies/production-audit-bucket";
import { queueConsumerBoundedRetries } from "./policies/queue-consumer-bounded-retries";
import { queueProducersHaveConsumers } from "./policies/queue-producers-have-consumers";
import { r2NoPublicAccess } from "./policies/r2-no-public-access";
import { vauZoneRuleset } from "./policies/vau-zone-ruleset";
import { workerCompatibilityDate } from "./policies/worker-compatibility-date";
import { workerDurableObjectMigrations } from "./policies/worker-durable-object-migrations";
import { type Rule, enforcementFor } from "./lib/rule";

export const rules: readonly Rule[] = [
  noPlaintextSecrets,
  apiTokenLeastPrivilege,
  r2NoPublicAccess,
  datastoreNoHostPorts,
  datastorePortsOneHost,
  externalDatastoreTls,
  containerNoHostPrivileges,
  imagesPinned,
  workerCompatibilityDate,
  workerDurableObjectMigrations,
  queueConsumerBoundedRetries,
  queueProducersHaveConsumers,
  productionAuditBucket,
  vauZoneRuleset,
];

export const PACK_NAME = "twist-crossguard";

/**
 * The pack config for a stack: the enforcement level of every policy. Written to
 * policy/config/<stack>.json and passed as `--policy-pack-config`; a test keeps the files in step.
 */
export function packConfigFor(stack: string): PolicyPackConfig {
  return Object.fromEntries(rules.map((rule) => [rule.policy.name, { enforcementLevel: enforcementFor(rule, stack) }]));
}
