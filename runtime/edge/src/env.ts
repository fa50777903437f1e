// The Worker's environment, typed from the single bindings declaration (../bindings.ts).
import type { OptionalVarName, SecretName, VarName } from "../bindings";

export interface Bindings {
  DEVICES: KVNamespace;
  AUDIT: R2Bucket;
  REWARDS: Queue<unknown>;
  REWARDS_DLQ: Queue<unknown>;
  RATE_LIMITER: DurableObjectNamespace;
  DEDUPE: DurableObjectNamespace;
  AGGREGATOR: DurableObjectNamespace;
}

/** Vars and secrets arrive as strings; any may be missing on a misconfigured deployment. */
export type Env = Bindings & Partial<Record<VarName | SecretName | OptionalVarName, string>>;

export const BINDING_KINDS: Record<keyof Bindings, "kv" | "r2" | "queue" | "do"> = {
  DEVICES: "kv",
  AUDIT: "r2",
  REWARDS: "queue",
  REWARDS_DLQ: "queue",
  RATE_LIMITER: "do",
  DEDUPE: "do",
  AGGREGATOR: "do",
};
