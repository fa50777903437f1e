// Test doubles for the cloud boundary: the Cloudflare API, the Docker daemon on the VM and the SSH
// host cannot be reached from here, so pulumi.runtime.setMocks answers in their place. They echo
// the inputs back as state and fill in the few computed outputs the program reads (ids, queue ids,
// minted token values). The program itself runs unchanged.
import type * as pulumi from "@pulumi/pulumi";
import { PLACEHOLDER_MINTED } from "./placeholders";

type State = Record<string, unknown>;

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
        return { results: [{ id: `permission-group:${name}`, name, category: "offline", isSelectable: true, scopes: [] }] };
      }
      case "cloudflare:index/getZeroTrustTunnelCloudflaredToken:getZeroTrustTunnelCloudflaredToken":
        return { accountId: args.inputs.accountId, tunnelId: args.inputs.tunnelId, token: PLACEHOLDER_MINTED.tunnelToken };
      default:
        return args.inputs;
    }
  },
};
