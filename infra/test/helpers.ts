// Shared by the infra tests: one offline evaluation per stack per mocha process (evaluations are
// serialised and cheap, but the graph does not change between test files).
import { STACKS, type StackName } from "../config";
import { type DetailedResource, type Evaluation, evaluateProgram } from "../offline/evaluate";

export { STACKS, type StackName };

const cache = new Map<string, Promise<Evaluation>>();

export function evaluated(stack: StackName): Promise<Evaluation> {
  let run = cache.get(stack);
  if (!run) {
    run = evaluateProgram({ stack });
    cache.set(stack, run);
  }
  return run;
}

export function only(resources: DetailedResource[], type: string, name: string): DetailedResource {
  const found = resources.filter((r) => r.type === type && r.name === name);
  if (found.length !== 1) throw new Error(`expected one ${type} "${name}", found ${found.length}`);
  return found[0]!;
}

/** Walks every leaf of a value with its path ("a.b[2].c"). */
export function* leaves(value: unknown, path = ""): Generator<[string, unknown]> {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) yield* leaves(v, `${path}[${i}]`);
  } else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) yield* leaves(v, path ? `${path}.${k}` : k);
  } else {
    yield [path, value];
  }
}

export const T = {
  kv: "cloudflare:index/workersKvNamespace:WorkersKvNamespace",
  r2: "cloudflare:index/r2Bucket:R2Bucket",
  r2Lifecycle: "cloudflare:index/r2BucketLifecycle:R2BucketLifecycle",
  r2Public: "cloudflare:index/r2ManagedDomain:R2ManagedDomain",
  queue: "cloudflare:index/queue:Queue",
  consumer: "cloudflare:index/queueConsumer:QueueConsumer",
  script: "cloudflare:index/workersScript:WorkersScript",
  domain: "cloudflare:index/workersCustomDomain:WorkersCustomDomain",
  apiToken: "cloudflare:index/apiToken:ApiToken",
  tunnel: "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared",
  tunnelConfig: "cloudflare:index/zeroTrustTunnelCloudflaredConfig:ZeroTrustTunnelCloudflaredConfig",
  dns: "cloudflare:index/dnsRecord:DnsRecord",
  cfProvider: "pulumi:providers:cloudflare",
  dockerProvider: "pulumi:providers:docker",
  container: "docker:index/container:Container",
  network: "docker:index/network:Network",
  volume: "docker:index/volume:Volume",
  image: "docker:index/image:Image",
  remoteImage: "docker:index/remoteImage:RemoteImage",
  command: "command:remote:Command",
} as const;
