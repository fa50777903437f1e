// `npm test`: bundles the runtimes (the Worker and infra tests use the real bundles), then runs the
// whole mocha suite, type-check included. The reporter ends with "N passed, N failed".
import { spawnSync } from "node:child_process";
import { buildAll } from "./build.mjs";

await buildAll();
const mocha = spawnSync(process.execPath, ["node_modules/mocha/bin/mocha.js", ...process.argv.slice(2)], { stdio: "inherit" });
process.exit(mocha.status ?? 1);
