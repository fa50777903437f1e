// `npm run faults`: the fault suite at full load (test/faults; FAULTS_SCALE=full). It prints one line
// per fault and closes with "faults: N survived, N lost, N doubled". `npm test` runs the same faults
// bounded (less load, fewer kills). Needs PostgreSQL and Redis as npm test does, plus initdb/pg_ctl
// (/usr/lib/postgresql/*/bin) and redis-server for the throwaway instances.
import { spawnSync } from "node:child_process";
import { buildAll } from "./build.mjs";
import { parseCommandLine } from "./lib/cli";

const USAGE = `usage: npm run faults [-- --bounded]
  --bounded  the lighter load npm test runs (default: the full load)`;

async function main() {
  const { values } = parseCommandLine({ usage: USAGE, options: { bounded: { type: "boolean" } } });
  console.log("building bundles (dist/) ...");
  await buildAll();
  const mocha = spawnSync(process.execPath, ["node_modules/mocha/bin/mocha.js"], {
    stdio: "inherit",
    env: { ...process.env, TEST_SPEC: "test/faults/**/*.test.ts", FAULTS_SCALE: values.bounded ? "bounded" : "full" },
  });
  process.exit(mocha.status ?? 1);
}

void main();
