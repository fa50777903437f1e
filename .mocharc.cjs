// One mocha process runs every workspace's tests; tsx transpiles TypeScript on the fly.
module.exports = {
  spec: [
    "test/**/*.test.ts",
    "runtime/*/test/**/*.test.ts",
    "infra/test/**/*.test.ts",
    "policy/test/**/*.test.ts",
  ],
  extension: ["ts"],
  "node-option": ["import=tsx"],
  timeout: 30000,
  exit: true,
  reporter: "./scripts/mocha-reporter.cjs",
};
