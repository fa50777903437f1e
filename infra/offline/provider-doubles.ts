// Test doubles for the cloud boundary: the Cloudflare API, the Docker daemon on the VM and the SSH
// host cannot be reached from here, so pulumi.runtime.setMocks answers in their place. They echo
// the inputs back as state and fill in the few computed outputs the program reads (ids, queue ids,
// the minted API token value, image IDs), and answer data-source reads from a `CloudState` the
// caller describes (what the account already holds). The program itself runs unchanged.
import type * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { PLACEHOLDER_MINTED } from "./placeholders";

type State = Record<string, unknown>;

const computed: Record<string, (name: string, inputs: State) => State> = {
  "cloudflare:index/apiToken:ApiToken": (name) => ({ value: PLACEHOLDER_MINTED.apiTokenValue(name) }),
  "cloudflare:index/queue:Queue": (name) => ({ queueId: `${name}-queue-id` }),
  "docker:index/remoteImage:RemoteImage": (_name, inputs) => ({ imageId: String(inputs.name) }),
  // A local build's image ID: the same content (our tags are content digests) gives the same ID.
  "docker:index/image:Image": (_name, inputs) => ({ repoDigest: `sha256:${createHash("sha256").update(String(inputs.imageName)).digest("hex")}` }),
};

/** What the cloud already holds, as far as the program reads it. Default: an empty account (first deploy). */
export interface CloudState {
  /** Live Durable Object migration tag per Worker script name ("" = the script runs no migration). */
  workerMigrationTags?: Record<string, string>;
}

export const cloudBoundaryDoubles = (live: CloudState = {}): pulumi.runtime.Mocks => ({
  newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: State } {
    const extra = computed[args.type]?.(args.name, args.inputs as State) ?? {};
    return { id: `${args.name}-id`, state: { ...(args.inputs as State), ...extra } };
  },
  call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
    switch (args.token) {
      // GET /accounts/{id}/workers/scripts: one entry per existing script, id = script name.
      case "cloudflare:index/getWorkersScripts:getWorkersScripts":
        return { accountId: args.inputs.accountId, results: Object.entries(live.workerMigrationTags ?? {}).map(([id, migrationTag]) => ({ id, migrationTag })) };
      default:
        return args.inputs;
    }
  },
});
