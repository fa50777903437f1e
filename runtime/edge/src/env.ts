// The Worker's environment, typed from the single bindings declaration (../bindings.ts).
import { analyticsDatasets, durableObjects, kvNamespaces, queues, r2Buckets, type OptionalVarName, type SecretName, type VarName } from "../bindings";
import type { HourlyAggregator } from "./objects/hourly-aggregator";
import type { WalletGate } from "./objects/wallet-gate";

export interface Bindings {
  DEVICES: KVNamespace;
  AUDIT: R2Bucket;
  REWARDS: Queue<unknown>;
  REWARDS_DLQ: Queue<unknown>;
  WALLETS: DurableObjectNamespace<WalletGate>;
  AGGREGATOR: DurableObjectNamespace<HourlyAggregator>;
  ANALYTICS: AnalyticsEngineDataset;
  DEAD_LETTERS: AnalyticsEngineDataset;
}

/** Vars and secrets arrive as strings; any may be missing on a misconfigured deployment. */
export type Env = Bindings & Partial<Record<VarName | SecretName | OptionalVarName, string>>;

export type BindingKind = "kv" | "r2" | "queue" | "do" | "analytics";

/** Every binding of the declaration and its kind, in declaration order. */
export const BINDING_KINDS: Readonly<Record<string, BindingKind>> = Object.fromEntries([
  ...kvNamespaces.map((k) => [k.binding, "kv"] as const),
  ...r2Buckets.map((r) => [r.binding, "r2"] as const),
  ...queues.flatMap((q) => (q.binding ? [[q.binding, "queue"] as const] : [])),
  ...durableObjects.map((d) => [d.binding, "do"] as const),
  ...analyticsDatasets.map((a) => [a.binding, "analytics"] as const),
]);
