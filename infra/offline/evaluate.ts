// Offline evaluation of a Pulumi program: runs it under pulumi.runtime.setMocks with a stack's real
// config file (secrets replaced by placeholders) and records every resource registration exactly
// as the engine would receive it. `npm run plan`, the infra tests and the policy pack's offline
// runner all read this record; nothing here talks to a cloud.
//
// Runs happen in-process, one at a time: setMocks resets the SDK's runtime state, and every module
// the program loaded (outside node_modules) is evicted from the require cache afterwards, so the
// next run evaluates the program afresh, for another stack or another program.
import * as pulumi from "@pulumi/pulumi";
import { load as loadYaml } from "js-yaml";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { SECRET_KEYS } from "../config";
import { PLACEHOLDER_SECRETS } from "./placeholders";
import { type CloudState, cloudBoundaryDoubles } from "./provider-doubles";

export interface RecordedResource {
  urn: string;
  type: string;
  name: string;
  inputs: Record<string, unknown>; // plain values, secret markers removed (what CrossGuard sees)
  secretPaths: string[]; // top-level input keys that were Pulumi secrets
  dependencies: string[]; // URNs this resource depends on (incl. dependsOn)
  parent?: string;
  /** Provider reference (urn::id) for custom resources with an explicit provider. */
  provider?: string;
}

/** What the plan printer additionally reads. */
export interface DetailedResource extends RecordedResource {
  custom: boolean;
  /** Every secret value's path, e.g. "bindings[9].text" or "envs". */
  secretLeaves: string[];
  /** URNs this resource was known by before (resource option `aliases`). */
  aliases?: string[];
  /** Lifecycle options the engine receives (set ones only). */
  options: { protect?: boolean; retainOnDelete?: boolean; deleteBeforeReplace?: boolean };
}

export interface EvaluateOptions {
  stack: string;
  /**
   * Checkout whose program and Pulumi.<stack>.yaml are evaluated (its own dist/ included), run
   * from that directory as the CLI runs a project. Default: this repository.
   */
  root?: string;
  /** Program entry; defaults to <root>/infra/index.ts. */
  program?: string;
  /** What the cloud already holds (the provider doubles answer data sources from it). Default: nothing. */
  live?: CloudState;
  /** Environment variables set for the run only (e.g. TWIST_ARTIFACTS_DIR). */
  env?: Record<string, string>;
  /** Config overrides, fully qualified ("twist:vmHost"); applied over the stack file and placeholders. */
  config?: Record<string, string>;
  /** Fully qualified keys to remove after merging (to test a missing key). */
  unset?: string[];
}

export interface Evaluation {
  resources: DetailedResource[];
  outputs: Record<string, unknown>;
  /** Secret config keys given placeholder values. */
  placeholderKeys: string[];
}

export const REPO_ROOT = resolve(__dirname, "..", "..");
export const DEFAULT_PROGRAM = join(REPO_ROOT, "infra", "index.ts");

// Signatures of Pulumi's wire format (sdk/nodejs/runtime/rpc.ts).
const SIG = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";
const ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17";
const ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7";
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Converts a serialized property to plain JSON, collecting the path of every secret inside it. */
function plain(value: unknown, path: string, secrets: string[]): unknown {
  if (value === UNKNOWN) return "<computed>";
  if (Array.isArray(value)) return value.map((v, i) => plain(v, `${path}[${i}]`, secrets));
  if (value === null || typeof value !== "object") return value;
  const obj = value as Record<string, unknown>;
  switch (obj[SIG]) {
    case SECRET_SIG:
      secrets.push(path);
      return plain(obj.value, path, secrets);
    case RESOURCE_SIG:
      return obj.id ? plain(obj.id, path, secrets) : obj.urn;
    case ASSET_SIG:
    case ARCHIVE_SIG:
      return { asset: obj.path ?? obj.uri ?? "<inline>" };
  }
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, plain(v, path ? `${path}.${k}` : k, secrets)]));
}

/** Stack config file -> flat "ns:key" -> string map, as the CLI hands config to a program. */
function readStackConfig(file: string): { values: Record<string, string>; secure: string[] } {
  const doc = (loadYaml(readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
  const values: Record<string, string> = {};
  const secure: string[] = [];
  for (const [key, value] of Object.entries(doc.config ?? {})) {
    if (value && typeof value === "object" && "secure" in value) secure.push(key);
    else values[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return { values, secure };
}

function projectName(root: string): string {
  const doc = loadYaml(readFileSync(join(root, "Pulumi.yaml"), "utf8")) as { name?: string };
  if (!doc?.name) throw new Error("Pulumi.yaml has no project name");
  return doc.name;
}

let queue: Promise<unknown> = Promise.resolve();

/** Evaluates the program for one stack. Calls are serialised: the Pulumi runtime is process-global. */
export function evaluateProgram(opts: EvaluateOptions): Promise<Evaluation> {
  const run = queue.then(() => evaluateOnce(opts));
  queue = run.catch(() => undefined);
  return run;
}

async function evaluateOnce(opts: EvaluateOptions): Promise<Evaluation> {
  const root = resolve(opts.root ?? REPO_ROOT);
  const project = projectName(root);
  const program = resolve(opts.program ?? join(root, "infra", "index.ts"));
  const stackFile = join(root, `Pulumi.${opts.stack}.yaml`);
  const isDefaultProgram = program === join(root, "infra", "index.ts");
  if (!existsSync(stackFile) && isDefaultProgram) throw new Error(`no stack config file Pulumi.${opts.stack}.yaml`);
  const file = existsSync(stackFile) ? readStackConfig(stackFile) : { values: {}, secure: [] };

  // Secrets never sit in a stack file as plain text: that file is committed.
  const secretKeys = Object.keys(SECRET_KEYS).map((k) => `${project}:${k}`);
  const leaked = secretKeys.filter((k) => k in file.values);
  if (leaked.length > 0) throw new Error(`Pulumi.${opts.stack}.yaml holds secrets in plain text: ${leaked.join(", ")} (use pulumi config set --secret)`);

  const config: Record<string, string> = { ...file.values };
  const placeholderKeys: string[] = [];
  for (const [key, value] of Object.entries(PLACEHOLDER_SECRETS)) {
    config[`${project}:${key}`] = value;
    placeholderKeys.push(`${project}:${key}`);
  }
  Object.assign(config, opts.config ?? {});
  for (const key of opts.unset ?? []) delete config[key];

  const mocks = cloudBoundaryDoubles(opts.live);
  await pulumi.runtime.setMocks(mocks, project, opts.stack, true);
  pulumi.runtime.setAllConfig(config, [...secretKeys, ...file.secure]);

  const resources: DetailedResource[] = [];
  let stackOutputs: unknown = {};
  const failures: Error[] = [];
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource(req: any, cb: (err: Error | null, resp?: any) => void): void;
    registerResourceOutputs(req: any, cb: (err: Error | null, resp?: any) => void): void;
  };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) =>
    register(req, (err, resp) => {
      if (err) failures.push(err);
      else if (req.getType() !== "pulumi:pulumi:Stack") {
        const secretLeaves: string[] = [];
        const inputs = plain(req.getObject()?.toJavaScript() ?? {}, "", secretLeaves) as Record<string, unknown>;
        resources.push({
          urn: resp.getUrn(),
          type: req.getType(),
          name: req.getName(),
          inputs,
          secretPaths: [...new Set(secretLeaves.map((p) => p.split(/[.[]/)[0]!))],
          dependencies: [...new Set<string>(req.getDependenciesList())],
          ...(req.getParent() ? { parent: req.getParent() } : {}),
          custom: req.getCustom(),
          ...aliasUrns(req),
          options: lifecycleOptions(req),
          ...(req.getProvider() ? { provider: req.getProvider() } : {}),
          secretLeaves,
        });
      }
      cb(err, resp);
    });
  const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
  monitor.registerResourceOutputs = (req, cb) => {
    if (String(req.getUrn()).includes("::pulumi:pulumi:Stack::")) stackOutputs = req.getOutputs()?.toJavaScript() ?? {};
    registerOutputs(req, cb);
  };

  const cachedBefore = new Set(Object.keys(require.cache));
  const cwd = process.cwd();
  const envBefore = Object.fromEntries(Object.keys(opts.env ?? {}).map((k) => [k, process.env[k]]));
  Object.assign(process.env, opts.env ?? {});
  process.chdir(root);
  // A failed apply (e.g. a malformed secret) never resolves the outputs that depend on it; the
  // SDK reports it as an unhandled rejection, which ends the run here as it ends `pulumi up`.
  let abort: (err: Error) => void = () => undefined;
  const aborted = new Promise<never>((_, reject) => (abort = reject));
  const onRejection = (reason: unknown) => {
    const err = reason instanceof Error ? reason : new Error(String(reason));
    failures.push(err);
    abort(err);
  };
  process.on("unhandledRejection", onRejection);
  try {
    const program$ = pulumi.runtime.runInPulumiStack(async () => {
      const mod = require(program);
      return typeof mod?.default === "function" ? await mod.default() : mod;
    });
    await Promise.race([program$, aborted]);
    // Outstanding registrations (exported by the SDK's runtime, though not in its typings).
    await Promise.race([(pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs(), aborted]);
    // Let rejected applies surface before judging the run.
    await new Promise((r) => setImmediate(r));
  } catch (err) {
    if (!failures.includes(err as Error)) failures.unshift(err instanceof Error ? err : new Error(String(err)));
  } finally {
    // A failed run leaves rejections that surface a turn later; they belong to this run, not the next.
    if (failures.length > 0) for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 0));
    process.off("unhandledRejection", onRejection);
    process.chdir(cwd);
    for (const [k, v] of Object.entries(envBefore)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    aborted.catch(() => undefined);
    for (const key of Object.keys(require.cache)) {
      if (!cachedBefore.has(key) && !key.includes("/node_modules/")) delete require.cache[key];
    }
    // The entry itself may have been cached by an earlier import of the caller's; run it afresh next time.
    delete require.cache[program];
  }
  if (failures.length > 0) {
    // Reset the runtime so the abandoned run's pending outputs are not reported as leaks at exit.
    await pulumi.runtime.setMocks(mocks, project, opts.stack, true);
    throw programError(failures);
  }

  const outputSecrets: string[] = [];
  const outputs = plain(stackOutputs, "", outputSecrets) as Record<string, unknown>;
  for (const path of outputSecrets) maskPath(outputs, path);
  return { resources, outputs, placeholderKeys };
}

function lifecycleOptions(req: any): DetailedResource["options"] {
  return {
    ...(req.getProtect?.() ? { protect: true } : {}),
    ...(req.getRetainondelete?.() ? { retainOnDelete: true } : {}),
    ...(req.getDeletebeforereplacedefined?.() ? { deleteBeforeReplace: req.getDeletebeforereplace() } : {}),
  };
}

/** Aliases as the SDK sends them: plain URNs or specs with a URN (name/parent specs are not resolved here). */
function aliasUrns(req: any): { aliases?: string[] } {
  const urns = [...(req.getAliasurnsList?.() ?? []), ...(req.getAliasesList?.() ?? []).map((a: any) => a.getUrn?.()).filter(Boolean)] as string[];
  return urns.length > 0 ? { aliases: urns } : {};
}

/** Replaces the value at a recorded path ("a.b[2]") with "[secret]". */
function maskPath(root: Record<string, unknown>, path: string): void {
  const parts = path.match(/[^.[\]]+/g) ?? [];
  let node: any = root;
  for (const part of parts.slice(0, -1)) node = node?.[part];
  const last = parts[parts.length - 1];
  if (node && last !== undefined) node[last] = "[secret]";
}

/** The first real cause, unwrapped from the SDK's "error serializing property" wrappers. */
function programError(failures: Error[]): Error {
  const primary = failures.find((f) => f.message.includes("invalid stack configuration:")) ?? failures[0]!;
  const message = primary.message.slice(Math.max(0, primary.message.indexOf("invalid stack configuration:")));
  const err = new Error(message);
  err.name = primary.name;
  return err;
}
