// The contract test vectors. The committed copy keeps a clone self-contained; when the design's
// shared/vectors sits beside the repository, a test checks the copy still matches it.
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const VECTORS_DIR = join(__dirname, "..", "vectors");
export const DESIGN_VECTORS_DIR = join(__dirname, "..", "..", "..", "shared", "vectors");

export function loadVector<T = any>(name: "jwt" | "signed-requests" | "siws"): T {
  return JSON.parse(readFileSync(join(VECTORS_DIR, `${name}.json`), "utf8")) as T;
}
