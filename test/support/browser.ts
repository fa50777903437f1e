// A real browser for tests: Debian's Chromium driven by playwright-core (no browser download).
// .ci/run installs the package; without it the test fails naming that step.
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export async function launchBrowser(): Promise<{ browser: Browser; close(): Promise<void> }> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: run "bash scripts/install-test-packages.sh" (the README test step; it installs Debian chromium)`);
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // playwright gives every launch a fresh temporary profile. Without the background-networking
    // flags Chromium dials Google's hosts at start, which this machine's closed network refuses.
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  return { browser, close: () => browser.close() };
}
