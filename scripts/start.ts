// `npm start`: builds the bundles and runs the whole platform locally until Ctrl-C, printing each
// start-up step as it begins. Configuration is by environment only (USAGE below); flags are refused.
import { buildAll } from "./build.mjs";
import { parseCommandLine } from "./lib/cli";
import { startPlatform } from "./platform";
import { LOCAL_ENV_USAGE, localPlatformOptions, printSummary, step, stopOnSignals } from "./platform/local";

const USAGE = `usage: npm start
Builds the bundles, then runs the whole platform locally until Ctrl-C. ${LOCAL_ENV_USAGE}`;

async function main() {
  parseCommandLine({ usage: USAGE, options: {} });
  step("building bundles (dist/)");
  await buildAll();
  const platform = await startPlatform(localPlatformOptions());
  printSummary(platform);
  stopOnSignals(() => platform.stop());
}

main().catch((err) => {
  console.error(`npm start failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
