// Container image references: name[:tag][@digest], or a bare image id (sha256:<hex>).

export interface ImageRef {
  name: string;
  tag?: string;
  digest?: string;
}

export function parseImageRef(ref: string): ImageRef {
  if (/^sha256:[0-9a-f]{64}$/i.test(ref)) return { name: "", digest: ref };
  const at = ref.indexOf("@");
  const digest = at >= 0 ? ref.slice(at + 1) : undefined;
  const rest = at >= 0 ? ref.slice(0, at) : ref;
  const slash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  // A colon before the last slash belongs to a registry host:port, not to a tag.
  if (colon > slash) return { name: rest.slice(0, colon), tag: rest.slice(colon + 1), ...(digest ? { digest } : {}) };
  return { name: rest, ...(digest ? { digest } : {}) };
}

/** Tags that move: they name a channel, not a version. */
const FLOATING_TAGS = new Set(["latest", "stable", "lts", "edge", "main", "master", "nightly", "current"]);

/** Why an image reference is not pinned, or undefined when it is (a version tag or a digest). */
export function unpinnedReason(ref: string): string | undefined {
  const { tag, digest } = parseImageRef(ref);
  if (digest) return undefined;
  if (tag === undefined || tag === "") return "has no tag (Docker pulls `latest`)";
  if (FLOATING_TAGS.has(tag.toLowerCase())) return `uses the moving tag \`${tag}\``;
  return undefined;
}

/** Images of data stores that must never be reachable from outside the host. */
export const DATASTORE_IMAGE = /(?:^|[/_-])(postgres(?:ql)?|postgis|redis|valkey|keydb|mysql|mariadb|mongo(?:db)?|memcached)(?:$|[:@/_-])/i;
