// Stack check: every queue a Worker sends to is consumed by someone in the same stack, otherwise
// messages pile up until they expire. A queue that is some consumer's dead-letter queue is exempt:
// it is drained on purpose, by the replay runbook.
import * as cloudflare from "@pulumi/cloudflare";
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import type { Rule } from "../lib/rule";
import { stackConfigProperty } from "../lib/stack";

interface Binding {
  type?: string;
  name?: string;
  queueName?: string;
}

/** True when `consumer` reads the queue named `queueName` (declared by `queue`, if in the stack). */
function consumes(consumer: PolicyResource, queueName: string, queue: PolicyResource | undefined): boolean {
  const props = consumer.props;
  if (props.queueName === queueName) return true;
  if (!queue) return false;
  if (props.queueId !== undefined && props.queueId !== "" && props.queueId === queue.props.queueId) return true;
  const byProperty = consumer.propertyDependencies?.queueId ?? [];
  return [...byProperty, ...consumer.dependencies].some((dep) => dep.urn === queue.urn);
}

export const queueProducersHaveConsumers: Rule<StackValidationPolicy> = {
  staging: "advisory",
  stagingReason: "a staging consumer may be deployed separately while a feature is in progress",
  policy: {
    name: "queue-producers-have-consumers",
    description:
      "Every queue a WorkersScript sends to (a `queue` binding) must have a QueueConsumer in the same stack, unless it is a dead-letter queue of a consumer (drained by the replay runbook).",
    enforcementLevel: "mandatory",
    configSchema: { properties: { ...stackConfigProperty } },
    validateStack: (args, report) => {
      const queues = args.resources.filter((r) => r.isType(cloudflare.Queue));
      const consumers = args.resources.filter((r) => r.isType(cloudflare.QueueConsumer));
      const deadLetterQueues = new Set(consumers.map((c) => c.props.deadLetterQueue).filter((q): q is string => typeof q === "string" && q !== ""));
      for (const script of args.resources.filter((r) => r.isType(cloudflare.WorkersScript))) {
        for (const binding of (script.props.bindings ?? []) as Binding[]) {
          if (binding.type !== "queue" || !binding.queueName) continue;
          const queueName = binding.queueName;
          if (deadLetterQueues.has(queueName)) continue;
          const queue = queues.find((q) => q.props.queueName === queueName);
          if (!consumers.some((c) => consumes(c, queueName, queue))) {
            report(
              `Worker "${script.props.scriptName ?? script.name}" sends to queue ${queueName} (binding "${binding.name}") but nothing in this stack consumes it. Add a QueueConsumer for it (with maxRetries and a deadLetterQueue), or remove the binding.`,
              script.urn,
            );
          }
        }
      }
    },
  },
};
