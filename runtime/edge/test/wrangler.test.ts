// runtime/edge/wrangler.jsonc is generated from bindings.ts and stays in step with it, and the pinned
// wrangler builds the Worker from it offline (`wrangler deploy --dry-run --outdir`): it uploads
// exactly the bundle the tests run, with every declared binding.
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { analyticsDatasets, durableObjects, kvNamespaces, queues, r2Buckets } from "../bindings";
import { EDGE_BUNDLE, REPO_ROOT } from "../local/miniflare";
import { renderWranglerConfig, WRANGLER_CONFIG } from "../local/wrangler-config";

describe("edge: wrangler configuration", function () {
  this.timeout(120_000);

  it("is the file `npm run wrangler:config` writes from bindings.ts", () => {
    expect(readFileSync(WRANGLER_CONFIG, "utf8"), "run npm run wrangler:config").to.equal(renderWranglerConfig());
  });

  it("wrangler deploy --dry-run builds the tested bundle unchanged and lists every declared binding", () => {
    const outdir = mkdtempSync(join(tmpdir(), "twist-wrangler-"));
    try {
      const run = spawnSync(join(REPO_ROOT, "node_modules", ".bin", "wrangler"), ["deploy", "--dry-run", "--outdir", outdir], {
        cwd: join(REPO_ROOT, "runtime", "edge"),
        encoding: "utf8",
        env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "1" },
      });
      expect(run.status, run.stderr).to.equal(0);
      expect(run.stdout).to.include("--dry-run: exiting now.");
      expect(readFileSync(join(outdir, "index.js"), "utf8")).to.equal(readFileSync(EDGE_BUNDLE, "utf8"));
      const declared = [
        ...kvNamespaces.map((k) => k.binding),
        ...r2Buckets.map((r) => r.binding),
        ...queues.flatMap((q) => (q.binding ? [q.binding] : [])),
        ...durableObjects.map((d) => `${d.binding} (${d.className})`),
        ...analyticsDatasets.map((a) => a.binding),
      ];
      for (const name of declared) expect(run.stdout).to.include(`env.${name}`);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
