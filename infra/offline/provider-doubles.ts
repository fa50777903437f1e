// Test doubles for the cloud boundary: the Cloudflare API, the Docker daemon on the VM and the SSH
// host cannot be reached from here, so pulumi.runtime.setMocks answers in their place. They echo
// the inputs back as state and fill in the few computed outputs the program reads (ids, queue ids,
// minted token values). The program itself runs unchanged.
import type * as pulumi from "@pulumi/pulumi";
import { PLACEHOLDER_MINTED } from "./placeholders";

type State = Record<string, unknown>;

/** Permission group ids as GET /user/tokens/permission_groups lists them, for the names the program asks for. */
const PERMISSION_GROUP_IDS: Record<string, string> = {
  "Workers Scripts Write": "e086da7e2179491d91ee5f35b3ca210a",
  "Workers KV Storage Write": "f7f0eda5697f475c90846e879bab8666",
  "Workers R2 Storage Write": "bf7481a1826f439697cb59a20b22293e",
  "Queues Write": "366f57075ffc42689627bcf8242a1b6d",
  "Workers Routes Write": "28f4b596e7d643029c524985477ae49a",
  "Workers R2 Storage Bucket Item Write": "2efd5506f9c8494dacb1fa10a3e7d5b6",
};

const computed: Record<string, (name: string, inputs: State) => State> = {
  "cloudflare:index/queue:Queue": (name) => ({ queueId: `${name}-queue-id` }),
  "cloudflare:index/apiToken:ApiToken": (name) => ({ value: PLACEHOLDER_MINTED.apiTokenValue(name) }),
  "docker:index/remoteImage:RemoteImage": (_name, inputs) => ({ imageId: String(inputs.name) }),
  "docker:index/image:Image": (_name, inputs) => ({ repoDigest: `${String(inputs.imageName)}@sha256:offline-plan` }),
  "docker:index/container:Container": () => ({ exitCode: 0 }),
};

export const cloudBoundaryDoubles: pulumi.runtime.Mocks = {
  newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: State } {
    const extra = computed[args.type]?.(args.name, args.inputs as State) ?? {};
    return { id: `${args.name}-id`, state: { ...(args.inputs as State), ...extra } };
  },
  call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
    switch (args.token) {
      case "cloudflare:index/getApiTokenPermissionGroupsList:getApiTokenPermissionGroupsList": {
        const name = String(args.inputs.name ?? "");
        const id = PERMISSION_GROUP_IDS[name];
        return { results: id ? [{ id, name, category: "developer_platform", isSelectable: true, scopes: [] }] : [] };
      }
      case "cloudflare:index/getZeroTrustTunnelCloudflaredToken:getZeroTrustTunnelCloudflaredToken":
        return { accountId: args.inputs.accountId, tunnelId: args.inputs.tunnelId, token: PLACEHOLDER_MINTED.tunnelToken };
      default:
        return args.inputs;
    }
  },
};
