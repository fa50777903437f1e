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
export interface ImageSpec {
  name: string;
  bundle: string;
  dockerfile: string;
}
/** The service images; each one's build context is dist/images/<name>/. */
export declare const images: ImageSpec[];
/** The build-context paths a Dockerfile's COPY lines read (globs refused). */
export declare function copiedSources(dockerfileText: string, what?: string): string[];
/** Stages dist/images/<image>/ under `distDir` for the images of `bundleNames` (all when omitted); returns the files written. */
export declare function stageImages(distDir?: string, bundleNames?: string[]): string[];
