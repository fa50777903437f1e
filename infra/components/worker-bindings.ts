// Turns the Worker's single bindings declaration (runtime/edge/bindings.ts) into the provider's
// WorkersScript inputs. Typed against @pulumi/cloudflare's own input types so a provider upgrade
// that renames a field fails the type-check instead of the deploy.
import type * as cloudflare from "@pulumi/cloudflare";
import type * as pulumi from "@pulumi/pulumi";
import * as decl from "../../runtime/edge/bindings";

export type WorkerBinding = cloudflare.types.input.WorkersScriptBinding;

export interface BindingSources {
  /** Namespace id per KV binding name. */
  kvNamespaceIds: Record<string, pulumi.Input<string>>;
  /** Physical bucket name per R2 binding name. */
  r2BucketNames: Record<string, pulumi.Input<string>>;
  /** Physical queue name per producer binding name. */
  queueNames: Record<string, pulumi.Input<string>>;
  /** Physical Analytics Engine dataset name per binding name (the dataset appears on first write). */
  analyticsDatasetNames: Record<string, pulumi.Input<string>>;
  /** plain_text values; every name of `vars` must be present, `optionalVars` only when set. */
  vars: Record<string, pulumi.Input<string>>;
  /** secret_text values (Pulumi secrets). */
  secrets: Record<decl.SecretName, pulumi.Input<string>>;
}

function need<T>(table: Record<string, T>, name: string, what: string): T {
  const value = table[name];
  if (value === undefined) throw new Error(`worker bindings: no ${what} for binding ${name}`);
  return value;
}

/** Every binding of the declaration, in declaration order. */
export function workerBindings(src: BindingSources): WorkerBinding[] {
  const bindings: WorkerBinding[] = [];
  for (const kv of decl.kvNamespaces) {
    bindings.push({ type: "kv_namespace", name: kv.binding, namespaceId: need(src.kvNamespaceIds, kv.binding, "KV namespace id") });
  }
  for (const r2 of decl.r2Buckets) {
    bindings.push({ type: "r2_bucket", name: r2.binding, bucketName: need(src.r2BucketNames, r2.binding, "R2 bucket") });
  }
  for (const q of decl.queues) {
    if (q.binding) bindings.push({ type: "queue", name: q.binding, queueName: need(src.queueNames, q.binding, "queue") });
  }
  for (const dobj of decl.durableObjects) {
    bindings.push({ type: "durable_object_namespace", name: dobj.binding, className: dobj.className });
  }
  for (const ae of decl.analyticsDatasets) {
    bindings.push({ type: "analytics_engine", name: ae.binding, dataset: need(src.analyticsDatasetNames, ae.binding, "dataset") });
  }
  for (const name of decl.vars) {
    bindings.push({ type: "plain_text", name, text: need(src.vars, name, "value") });
  }
  for (const name of Object.keys(decl.optionalVars)) {
    const text = src.vars[name];
    if (text !== undefined) bindings.push({ type: "plain_text", name, text });
  }
  for (const name of decl.secrets) {
    bindings.push({ type: "secret_text", name, text: need(src.secrets, name, "secret") });
  }
  return bindings;
}
