// Stack check: production keeps an audit trail. There is an R2 audit bucket and a Worker writes
// to it through an r2_bucket binding.
import * as cloudflare from "@pulumi/cloudflare";
import type { StackValidationPolicy } from "@pulumi/policy";
import { type Rule, configWithDefaults } from "../lib/rule";
import { stackConfigProperty, stackFromUrn, stackOf, tierOf } from "../lib/stack";

interface Config {
  /** Case-insensitive substring that marks a bucket name as the audit bucket. */
  auditBucketMarker: string;
}
const defaults: Config = { auditBucketMarker: "audit" };

export const productionAuditBucket: Rule<StackValidationPolicy> = {
  staging: "advisory",
  stagingReason: "the rule applies to production only; staging reports nothing",
  policy: {
    name: "production-audit-bucket",
    description:
      'The production stack must declare the R2 audit bucket (name containing "audit") and bind it to a WorkersScript with an r2_bucket binding, so ingest requests leave an audit trail.',
    enforcementLevel: "mandatory",
    configSchema: {
      properties: { ...stackConfigProperty, auditBucketMarker: { type: "string", default: defaults.auditBucketMarker } },
    },
    validateStack: (args, report) => {
      const stack = stackOf(
        args,
        args.resources.map((r) => r.urn).find((urn) => stackFromUrn(urn)),
      );
      if (tierOf(stack) !== "production") return;
      const marker = configWithDefaults(args, defaults).auditBucketMarker.toLowerCase();
      const buckets = args.resources
        .filter((r) => r.isType(cloudflare.R2Bucket))
        .map((r) => String(r.props.name ?? ""))
        .filter((name) => name.toLowerCase().includes(marker));
      if (buckets.length === 0) {
        report(`Stack "${stack}" declares no R2 audit bucket. Declare an R2Bucket whose name contains "${marker}" (private, with a lifecycle rule) and bind it to the edge Worker.`);
        return;
      }
      const bound = args.resources
        .filter((r) => r.isType(cloudflare.WorkersScript))
        .some((r) => ((r.props.bindings ?? []) as { type?: string; bucketName?: string }[]).some((b) => b.type === "r2_bucket" && buckets.includes(String(b.bucketName))));
      if (!bound) {
        report(`Audit bucket ${buckets.join(", ")} is declared but no Worker writes to it. Add an r2_bucket binding for it to the edge WorkersScript.`);
      }
    },
  },
};
