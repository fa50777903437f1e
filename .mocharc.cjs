// One mocha run covers every workspace's tests (npm test: in parallel workers, scripts/test.mjs); tsx transpiles TypeScript on the fly.
// TEST_SPEC narrows the run while working on one part: TEST_SPEC='runtime/auth/test/**/*.test.ts' npx mocha
module.exports = {
  spec: process.env.TEST_SPEC ? process.env.TEST_SPEC.split(",") : ["test/**/*.test.ts", "runtime/*/test/**/*.test.ts", "infra/test/**/*.test.ts", "policy/test/**/*.test.ts"],
  extension: ["ts"],
  "node-option": ["import=tsx"],
  timeout: 30000,
  exit: true,
  reporter: "./scripts/mocha-reporter.cjs",
};
