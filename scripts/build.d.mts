export interface BundleSpec {
  name: string;
  entryPoints: Record<string, string>;
  platform: "node" | "neutral";
  format: "esm" | "cjs";
}
export declare const bundles: BundleSpec[];
/** Bundles the named runtimes (all when omitted) into dist/; returns the files written. */
export declare function buildAll(options?: { only?: string[] }): Promise<string[]>;
/** Builds every bundle and rebuilds each on change; `onRebuilt` names the bundle after each good rebuild. */
export declare function watchAll(options: { onRebuilt: (name: string) => void }): Promise<{ stop(): Promise<unknown> }>;
