// The CrossGuard pack entry: `pulumi preview|up --policy-pack policy` runs this file. Constructing
// a PolicyPack starts the analyzer's gRPC server and never returns, so nothing imports this file;
// tests and the offline runner import rules.ts instead.
//
// Every policy is mandatory unless the pack config says otherwise: CI passes
// `--policy-pack-config policy/config/<stack>.json`, which relaxes some policies to advisory on
// staging (see docs/security.md). Without the file, every stack gets production rules.
import { PolicyPack } from "@pulumi/policy";
import { PACK_NAME, rules } from "./rules";

new PolicyPack(PACK_NAME, {
  description: "TWIST security rules: secrets, token scope, public exposure, pinned images, Worker and queue hygiene.",
  enforcementLevel: "mandatory",
  policies: rules.map((rule) => rule.policy),
});
