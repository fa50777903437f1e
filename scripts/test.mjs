// `npm test`: bundles the runtimes (the Worker and infra tests use the real bundles), then runs the
// whole mocha suite, type-check included. The reporter ends with "N passed, N failed".
// Files run in parallel worker processes, at least two: most tests wait on a child process, a
// socket or a database, so two at once take about two thirds of the time on two cores. Tests
// share nothing but the machine (own database, Redis prefix, reserved ports, temporary folders).
import { spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { buildAll } from "./build.mjs";

await buildAll();
const jobs = String(Math.max(2, availableParallelism()));
const mocha = spawnSync(process.execPath, ["node_modules/mocha/bin/mocha.js", "--parallel", "--jobs", jobs, ...process.argv.slice(2)], { stdio: "inherit" });
process.exit(mocha.status ?? 1);
