// A queue consumer gives up after a bounded number of retries and parks what still fails in a
// dead-letter queue, so a poison message neither loops forever nor disappears.
import * as cloudflare from "@pulumi/cloudflare";
import { type ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { type Rule, configWithDefaults } from "../lib/rule";
import { stackConfigProperty } from "../lib/stack";

interface Config {
  maxRetries: number;
}
const defaults: Config = { maxRetries: 10 };

export const queueConsumerBoundedRetries: Rule<ResourceValidationPolicy> = {
  staging: "advisory",
  stagingReason: "staging may experiment with retry settings; production must not lose or loop on messages",
  policy: {
    name: "queue-consumer-bounded-retries",
    description:
      "Every QueueConsumer must set `settings.maxRetries` explicitly (at most the configured maximum, default 10) and a `deadLetterQueue`, so messages that keep failing are parked for replay instead of looping or being dropped.",
    enforcementLevel: "mandatory",
    configSchema: {
      properties: { ...stackConfigProperty, maxRetries: { type: "integer", minimum: 0, default: defaults.maxRetries } },
    },
    validateResource: validateResourceOfType(cloudflare.QueueConsumer, (consumer, args, report) => {
      const { maxRetries } = configWithDefaults(args, defaults);
      const label = `Queue consumer "${consumer.scriptName ?? args.name}"`;
      const retries = consumer.settings?.maxRetries;
      if (retries === undefined) {
        report(`${label} does not set settings.maxRetries. Set it explicitly (e.g. 5) so the retry budget is a reviewed decision.`);
      } else if (retries > maxRetries) {
        report(`${label} retries up to ${retries} times, more than the allowed ${maxRetries}. Lower settings.maxRetries and let the dead-letter queue keep the rest.`);
      }
      if (!consumer.deadLetterQueue) {
        report(`${label} has no deadLetterQueue, so messages that exhaust their retries are dropped. Set \`deadLetterQueue\` to the name of a dead-letter queue declared in the stack.`);
      }
    }),
  },
};
