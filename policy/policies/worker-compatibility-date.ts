// A Worker pins the runtime behaviour it was tested with.
import * as cloudflare from "@pulumi/cloudflare";
import { type ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import type { Rule } from "../lib/rule";
import { stackConfigProperty } from "../lib/stack";

export const workerCompatibilityDate: Rule<ResourceValidationPolicy> = {
  staging: "advisory",
  stagingReason: "staging is where a new compatibility date is tried out",
  policy: {
    name: "worker-compatibility-date",
    description:
      "Every WorkersScript must set `compatibilityDate` (YYYY-MM-DD, not in the future) so the runtime behaves as it did in tests; take it from the single bindings declaration (runtime/edge/bindings.ts).",
    enforcementLevel: "mandatory",
    configSchema: { properties: { ...stackConfigProperty } },
    validateResource: validateResourceOfType(cloudflare.WorkersScript, (script, _args, report) => {
      const label = `Worker "${script.scriptName}"`;
      const date = script.compatibilityDate;
      if (date === undefined || date === "") {
        report(`${label} has no compatibilityDate. Set \`compatibilityDate\` to the date the Worker was tested with (WORKER.compatibilityDate in runtime/edge/bindings.ts).`);
      } else if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(Date.parse(`${date}T00:00:00Z`))) {
        report(`${label} has compatibilityDate "${date}", which is not a YYYY-MM-DD date. Use e.g. 2025-09-01.`);
      } else if (Date.parse(`${date}T00:00:00Z`) > Date.now()) {
        report(`${label} has compatibilityDate ${date}, which is in the future and is rejected by Cloudflare. Use today's date or earlier.`);
      }
    }),
  },
};
