// The contract test vectors. The committed copy keeps a clone self-contained; when the design's
// shared/vectors sits beside the repository, a test checks the copy still matches it.
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const VECTORS_DIR = join(__dirname, "..", "vectors");
export const DESIGN_VECTORS_DIR = join(__dirname, "..", "..", "..", "shared", "vectors");

export type VectorName = "authorization-header" | "jwt" | "signed-requests" | "siws";

/** vectors/authorization-header.json: `token` null means 401 without verifying anything. */
export interface AuthorizationHeaderVectors {
  cases: { name: string; header: string | null; token: string | null }[];
}

export function loadVector<T = any>(name: VectorName): T {
  return JSON.parse(readFileSync(join(VECTORS_DIR, `${name}.json`), "utf8")) as T;
}

/**
 * The header vectors as they go through a service's real request path: `header(token)` puts a real
 * JWT of that service where the vector has its sample token, so an accepted case must authenticate
 * and a refused one must answer 401 whatever the token is.
 */
export function authorizationHeaderCases(): { name: string; accepted: boolean; header: (token: string) => string | null }[] {
  return loadVector<AuthorizationHeaderVectors>("authorization-header").cases.map((c) => {
    const sample = c.token ?? "abc.def.ghi";
    return { name: c.name, accepted: c.token !== null, header: (token) => (c.header === null ? null : c.header.split(sample).join(token)) };
  });
}
