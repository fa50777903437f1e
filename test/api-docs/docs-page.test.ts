// The API reference each Node service serves: /openapi.json is the committed spec with the request
// schemas of the service's own routes filled in (valid OpenAPI 3.1), and /docs renders it in a real browser with every operation shown, no console error and no
// request leaving 127.0.0.1 (Swagger UI's files come from the service itself, never a CDN).
import { Validator } from "@seriousme/openapi-schema-validator";
import { expect } from "chai";
import yaml from "js-yaml";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Express } from "express";
import type { Browser } from "playwright-core";
import { listen, loadApiDocs, withRequestSchemas, type Running } from "@twist/service";
import { startService } from "../../runtime/auth/test/support";

function bundledDocs(service: string) {
  const docs = loadApiDocs(join(ROOT, "dist", service));
  if (!docs) throw new Error(`dist/${service} has no API docs: run npm run build`);
  return docs;
}
import { startHarness } from "../../runtime/influencer/test/harness";
import { launchBrowser } from "../support/browser";
import { ROOT } from "../support/bundle";

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

function operationsOf(spec: { paths: Record<string, Record<string, unknown>> }): string[] {
  return Object.entries(spec.paths).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((k) => METHODS.includes(k))
      .map((m) => `${m.toUpperCase()} ${path}`),
  );
}

interface Served {
  name: string;
  base: string;
  app: Express;
  stop(): Promise<void>;
}

async function serve(name: string, app: Express, close: () => Promise<void>): Promise<Served> {
  const running: Running = await listen(app, 0);
  return {
    name,
    base: `http://127.0.0.1:${running.port}`,
    app,
    stop: async () => {
      await running.close();
      await close();
    },
  };
}

describe("served API docs", function () {
  this.timeout(90_000);
  const served: Served[] = [];
  let browser: Browser;
  let closeBrowser: () => Promise<void>;

  before(async () => {
    // The bundles' own docs (npm test builds first), as main.js loads them beside itself.
    const auth = await startService("apidocs", {}, undefined, { apiDocs: bundledDocs("auth") });
    served.push(await serve("auth", auth.app, auth.close));
    const influencer = await startHarness("apidocs", {}, { apiDocs: bundledDocs("influencer") });
    served.push(await serve("influencer", influencer.app, influencer.close));
    ({ browser, close: closeBrowser } = await launchBrowser());
  });
  after(async () => {
    await closeBrowser?.();
    for (const s of served) await s.stop();
  });

  for (const name of ["auth", "influencer"]) {
    const spec = yaml.load(readFileSync(join(ROOT, "docs", "api", `${name}.yaml`), "utf8")) as { paths: Record<string, Record<string, unknown>> };
    const at = () => served.find((s) => s.name === name)!.base;

    it(`${name}: /openapi.json is docs/api/${name}.yaml with the routes' request schemas, and valid OpenAPI`, async () => {
      const res = await fetch(`${at()}/openapi.json`);
      expect(res.status).to.equal(200);
      expect(res.headers.get("content-type")).to.match(/^application\/json/);
      const body = await res.json();
      expect(body).to.deep.equal(JSON.parse(JSON.stringify(withRequestSchemas(spec, served.find((s) => s.name === name)!.app))));
      expect(JSON.stringify(body)).to.include('"requestBody"');
      const result = await new Validator().validate(body as Parameters<Validator["validate"]>[0]);
      expect(result.errors ?? [], "OpenAPI schema errors").to.deep.equal([]);
      expect(result.valid).to.equal(true);
    });

    it(`${name}: /docs shows every operation in Chromium, with no console error and nothing fetched off 127.0.0.1`, async () => {
      const page = await browser.newPage();
      const problems: string[] = [];
      const offHost: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error") problems.push(`console: ${m.text()}`);
      });
      page.on("pageerror", (e) => problems.push(`page: ${e.message}`));
      page.on("requestfailed", (r) => problems.push(`failed: ${r.url()}`));
      page.on("response", (r) => {
        if (r.status() >= 400) problems.push(`${r.status()}: ${r.url()}`);
      });
      page.on("request", (r) => {
        if (new URL(r.url()).hostname !== "127.0.0.1") offHost.push(r.url());
      });
      try {
        await page.goto(`${at()}/docs`, { waitUntil: "networkidle" });
        const expected = operationsOf(spec);
        await page
          .locator(".opblock")
          .nth(expected.length - 1)
          .waitFor({ timeout: 30_000 });
        const shown = await page.$$eval(".opblock", (blocks) =>
          blocks.map((b) => `${b.querySelector(".opblock-summary-method")?.textContent?.trim()} ${b.querySelector(".opblock-summary-path")?.getAttribute("data-path")}`),
        );
        expect([...shown].sort()).to.deep.equal([...expected].sort());
        expect(problems).to.deep.equal([]);
        expect(offHost).to.deep.equal([]);
      } finally {
        await page.close();
      }
    });
  }
});
