// Which input changes make the engine replace a resource rather than update it, per resource type
// of the pinned providers. Both providers are bridged Terraform providers, so this is the upstream
// schema's ForceNew (SDKv2) / RequiresReplace (plugin framework) set; read it there when bumping:
//
// - @pulumi/docker 5.2.0 bridges kreuzwerker/docker v3: internal/provider/resource_docker_container.go
//   marks every attribute ForceNew except the few resourceDockerContainerUpdate applies in place
//   (`docker update`: restart policy, CPU and memory limits) and the provider-side waits; networks,
//   volumes and remote images are ForceNew throughout (resource_docker_network.go,
//   resource_docker_volume.go, resource_docker_remote_image.go; keep_locally is the exception).
//   docker.Image is the native Pulumi resource (provider/image.go): it is rebuilt in place, never replaced.
// - @pulumi/cloudflare 6.22.1 bridges cloudflare/cloudflare v5: each resource's schema.go sets
//   RequiresReplace on its account_id / zone_id and on the identifiers named below.
// - @pulumi/command 1.2.1 (native, pulumi/pulumi-command v1.2.1): only `triggers` is
//   `replaceOnChanges` (provider/pkg/provider/common/inputs.go); any other change is an update, and
//   Update (provider/pkg/provider/remote/commandController.go) runs `update`, or `create` again when
//   there is no `update` command, so a changed `create` re-runs in place.
//
// `"*"` means every input except those listed under `except`.

interface Rule {
  forceNew: "*" | string[];
  except?: string[];
}

export const FORCE_NEW: Record<string, Rule> = {
  "docker:index/container:Container": {
    forceNew: "*",
    except: [
      "restart",
      "maxRetryCount",
      "cpuShares",
      "cpuSet",
      "memory",
      "memorySwap",
      "mustRun",
      "wait",
      "waitTimeout",
      "destroyGraceSeconds",
      "containerReadRefreshTimeoutMilliseconds",
      "removeVolumes",
      "start",
      "attach",
      "logs",
      "rm",
    ],
  },
  "docker:index/network:Network": { forceNew: "*" },
  "docker:index/volume:Volume": { forceNew: "*" },
  "docker:index/remoteImage:RemoteImage": { forceNew: "*", except: ["keepLocally", "forceRemove"] },
  "docker:index/image:Image": { forceNew: [] },
  "cloudflare:index/workersScript:WorkersScript": { forceNew: ["accountId", "scriptName"] },
  "cloudflare:index/workersKvNamespace:WorkersKvNamespace": { forceNew: ["accountId"] },
  "cloudflare:index/r2Bucket:R2Bucket": { forceNew: ["accountId", "name", "location", "jurisdiction"] },
  "cloudflare:index/r2ManagedDomain:R2ManagedDomain": { forceNew: ["accountId", "bucketName", "jurisdiction"] },
  "cloudflare:index/r2BucketLifecycle:R2BucketLifecycle": { forceNew: ["accountId", "bucketName", "jurisdiction"] },
  "cloudflare:index/queue:Queue": { forceNew: ["accountId"] },
  "cloudflare:index/queueConsumer:QueueConsumer": { forceNew: ["accountId", "queueId"] },
  "cloudflare:index/workersCustomDomain:WorkersCustomDomain": { forceNew: ["accountId"] },
  "cloudflare:index/dnsRecord:DnsRecord": { forceNew: ["zoneId"] },
  "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared": { forceNew: ["accountId", "configSrc", "tunnelSecret"] },
  "cloudflare:index/zeroTrustTunnelCloudflaredConfig:ZeroTrustTunnelCloudflaredConfig": { forceNew: ["accountId", "tunnelId"] },
  "cloudflare:index/apiToken:ApiToken": { forceNew: [] },
  "command:remote:Command": { forceNew: ["triggers"] },
};

/** The changed top-level inputs that force a replacement ([] = an in-place update). Unknown types: none (the plan says so). */
export function forceNewProperties(type: string, changed: string[]): string[] {
  const rule = FORCE_NEW[type];
  if (!rule) return [];
  if (rule.forceNew === "*") return changed.filter((k) => !(rule.except ?? []).includes(k));
  return changed.filter((k) => (rule.forceNew as string[]).includes(k));
}
