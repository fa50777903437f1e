export interface BundleSpec {
  name: string;
  entryPoints: Record<string, string>;
  platform: "node" | "neutral";
  format: "esm" | "cjs";
}
export declare const bundles: BundleSpec[];
/** Bundles the named runtimes (all when omitted) into dist/; returns the files written. */
export declare function buildAll(options?: { only?: string[] }): Promise<string[]>;
