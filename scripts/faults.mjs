// `npm run faults`: the fault suite at full load (test/faults; FAULTS_SCALE=full). It prints one line
// per fault and closes with "faults: N survived, N lost, N doubled". `npm test` runs the same faults
// bounded (less load, fewer kills). Needs PostgreSQL and Redis as npm test does, plus initdb/pg_ctl
// (/usr/lib/postgresql/*/bin) and redis-server for the throwaway instances.
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";
import { buildAll } from "./build.mjs";

const USAGE = "usage: npm run faults [-- --bounded]\n  --bounded  the lighter load npm test uses";
let values;
try {
  ({ values } = parseArgs({ options: { bounded: { type: "boolean" }, help: { type: "boolean", short: "h" } }, strict: true }));
} catch (err) {
  process.stderr.write(`error: ${err.message}\n\n${USAGE}\n`);
  process.exit(2);
}
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
await buildAll();
const mocha = spawnSync(process.execPath, ["node_modules/mocha/bin/mocha.js"], {
  stdio: "inherit",
  env: { ...process.env, TEST_SPEC: "test/faults/**/*.test.ts", FAULTS_SCALE: values.bounded ? "bounded" : "full" },
});
process.exit(mocha.status ?? 1);
