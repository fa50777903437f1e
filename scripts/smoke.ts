// `npm run smoke -- --target local|<edgeUrl>,<authUrl>,<influencerUrl>`
// Runs the critical path (scripts/smoke/flow.ts) and prints each step with its latency; exits 1 at
// the first failure with the response it got. Signing keys: VAU_SIGNING_KEYS and
// MERCHANT_SIGNING_KEYS from the environment (first key signs), else the local development keys.
// SMOKE_MERCHANT_URL: the referral target, on one of the target's merchant domains.
import { exitOnUsageError, parseCommandLine, usageError } from "./lib/cli";
import { devKeys } from "./platform/dev-keys";
import { DEFAULT_MERCHANT_URL, runSmoke, type SmokeTarget } from "./smoke/flow";

export const USAGE = `usage: npm run smoke -- [--target local|<edgeUrl>,<authUrl>,<influencerUrl>]
  --target <t>  local (the default: http://127.0.0.1:8787, :3001, :3003) or a deployment's three base URLs
The smoke test writes data (a wallet, an influencer, a pool, rewards, a payout) on its target.
Environment: VAU_SIGNING_KEYS, MERCHANT_SIGNING_KEYS (first key signs), SMOKE_MERCHANT_URL.`;

/** The target's URLs; anything but `local` or three http(s) URLs is a usage error (exit 2), never local. */
export function parseTarget(value: string | undefined): SmokeTarget {
  if (value === undefined || value === "local") {
    return { edge: "http://127.0.0.1:8787", auth: "http://127.0.0.1:3001", influencer: "http://127.0.0.1:3003" };
  }
  const urls = value.split(",").map((u) => u.trim().replace(/\/+$/, ""));
  if (urls.length !== 3 || urls.some((u) => !/^https?:\/\/[^\s]+$/.test(u))) {
    usageError(`--target must be \`local\` or \`<edgeUrl>,<authUrl>,<influencerUrl>\` (got "${value}")`, USAGE);
  }
  const [edge, auth, influencer] = urls as [string, string, string];
  return { edge, auth, influencer };
}

async function main() {
  const { values } = parseCommandLine({ usage: USAGE, options: { target: { type: "string" } } });
  let target: SmokeTarget;
  try {
    target = parseTarget(values.target);
  } catch (err) {
    exitOnUsageError(err);
    throw err;
  }
  const keys = devKeys();
  console.log(`smoke test against edge ${target.edge}, auth ${target.auth}, influencer ${target.influencer}`);
  const started = performance.now();
  await runSmoke(
    target,
    { vauSigningKey: keys.VAU_SIGNING_KEYS.split(",")[0]!, merchantSigningKey: keys.MERCHANT_SIGNING_KEYS.split(",")[0]! },
    (s) => console.log(`  ok  ${s.name.padEnd(42)} ${s.ms.toFixed(0).padStart(6)} ms  ${s.detail}`),
    process.env.SMOKE_MERCHANT_URL ?? DEFAULT_MERCHANT_URL,
  );
  console.log(`smoke test passed in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(`  FAIL ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
