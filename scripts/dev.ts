// `npm run dev`: the platform of `npm start`, with every bundle rebuilt when one of its source files
// changes (esbuild watch) and what runs that bundle restarted from the new dist/ (the influencer
// bundle: migration, API and settlement worker). A failed rebuild keeps the running services.
import { watchAll } from "./build.mjs";
import { parseCommandLine } from "./lib/cli";
import { startPlatform, type PlatformBundle } from "./platform";
import { LOCAL_ENV_USAGE, localPlatformOptions, printSummary, step, stopOnSignals } from "./platform/local";

const USAGE = `usage: npm run dev
Builds the bundles and runs the whole platform locally until Ctrl-C, rebuilding a bundle when its
sources change and restarting the services that run it. ${LOCAL_ENV_USAGE}`;

async function main() {
  parseCommandLine({ usage: USAGE, options: {} });
  step("building bundles (dist/) and watching their sources");
  // Rebuilds that land while a restart runs are folded into one more restart of that bundle.
  const pending = new Set<PlatformBundle>();
  let restarting: Promise<void> | undefined;
  let restart: ((bundle: PlatformBundle) => Promise<void>) | undefined;
  const drain = async () => {
    for (const bundle of pending) {
      pending.delete(bundle);
      console.log(`${bundle} rebuilt; restarting it ...`);
      await restart!(bundle).then(
        () => console.log(`${bundle} restarted.`),
        (err: unknown) => console.error(`${bundle} did not restart: ${err instanceof Error ? err.message : String(err)}`),
      );
    }
    restarting = undefined;
  };
  const watcher = await watchAll({
    onRebuilt: (name) => {
      pending.add(name as PlatformBundle);
      if (restart) restarting ??= drain();
    },
  });
  const platform = await startPlatform(localPlatformOptions()).catch(async (err: unknown) => {
    await watcher.stop();
    throw err;
  });
  restart = (bundle) => platform.restart(bundle);
  printSummary(platform);
  // Sources changed while the platform started: what started may be older than dist/.
  if (pending.size) restarting ??= drain();
  stopOnSignals(async () => {
    await watcher.stop();
    await restarting;
    await platform.stop();
  });
}

main().catch((err) => {
  console.error(`npm run dev failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
