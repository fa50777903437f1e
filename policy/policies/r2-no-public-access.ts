// R2 buckets stay private: no r2.dev public URL and no public custom domain, unless the bucket is
// on the reviewed allow-list (e.g. a bucket of public static assets).
import * as cloudflare from "@pulumi/cloudflare";
import { type ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { type Rule, configWithDefaults } from "../lib/rule";
import { stackConfigProperty } from "../lib/stack";

interface Config {
  /** Bucket names that are meant to be public. */
  allowedPublicBuckets: string[];
}
const defaults: Config = { allowedPublicBuckets: [] };

export const r2NoPublicAccess: Rule<ResourceValidationPolicy> = {
  staging: "mandatory",
  stagingReason: "staging buckets hold real request metadata (audit log) too",
  policy: {
    name: "r2-no-public-access",
    description:
      "R2 buckets must not be publicly readable: no enabled r2.dev managed domain and no public custom domain, unless the bucket is allow-listed (allowedPublicBuckets). Read objects through a Worker binding instead.",
    enforcementLevel: "mandatory",
    configSchema: {
      properties: { ...stackConfigProperty, allowedPublicBuckets: { type: "array", items: { type: "string" }, default: defaults.allowedPublicBuckets } },
    },
    validateResource: [
      validateResourceOfType(cloudflare.R2ManagedDomain, (domain, args, report) => {
        const { allowedPublicBuckets } = configWithDefaults(args, defaults);
        if (domain.enabled && !allowedPublicBuckets.includes(domain.bucketName)) {
          report(
            `R2 bucket "${domain.bucketName}" is public on its r2.dev URL. Set \`enabled: false\` on the R2ManagedDomain (or remove it); serve objects through the Worker's r2_bucket binding, or allow-list the bucket if it must be public.`,
          );
        }
      }),
      validateResourceOfType(cloudflare.R2CustomDomain, (domain, args, report) => {
        const { allowedPublicBuckets } = configWithDefaults(args, defaults);
        if (domain.enabled && !allowedPublicBuckets.includes(domain.bucketName)) {
          report(
            `R2 bucket "${domain.bucketName}" is public on the custom domain ${domain.domain}. Remove the R2CustomDomain (or set \`enabled: false\`), or allow-list the bucket in allowedPublicBuckets if it must be public.`,
          );
        }
      }),
    ],
  },
};
