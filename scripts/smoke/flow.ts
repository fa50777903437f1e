// The critical path end to end, with a fresh wallet each run: sign in, register, create a pool, earn
// through the edge, stake, refer, convert, see the commission split, claim, and get paid out.
// `npm run smoke` runs it against local or deployed URLs; the end-to-end test runs it in npm test.
import { randomBytes, randomUUID } from "node:crypto";
import bs58 from "bs58";
import nacl from "tweetnacl";
import { signedHeaders } from "@twist/shared/signed-request";
import { call, eventually, SmokeFailure } from "./http";

export interface SmokeTarget {
  edge: string;
  auth: string;
  influencer: string;
}

export interface SmokeKeys {
  /** Clients -> edge (contract 3). */
  vauSigningKey: string;
  /** Merchant server -> POST /api/v1/conversions. */
  merchantSigningKey: string;
}

/** Where the referral link points: a URL on one of the target's allow-listed merchant domains. */
export const DEFAULT_MERCHANT_URL = "https://shop.example/products/widget?color=blue";

export interface SmokeStep {
  name: string;
  ms: number;
  detail: string;
}

const TWIST = 1_000_000_000n;

export async function runSmoke(target: SmokeTarget, keys: SmokeKeys, onStep: (step: SmokeStep) => void = () => {}, merchantUrl: string = DEFAULT_MERCHANT_URL): Promise<SmokeStep[]> {
  const steps: SmokeStep[] = [];
  const step = async (name: string, fn: () => Promise<string>) => {
    const started = performance.now();
    const detail = await fn();
    const s = { name, ms: performance.now() - started, detail };
    steps.push(s);
    onStep(s);
  };

  const wallet = nacl.sign.keyPair();
  const walletAddress = bs58.encode(wallet.publicKey);
  let token = "";
  const bearer = () => ({ Authorization: `Bearer ${token}` });
  const json = (value: unknown) => JSON.stringify(value);
  const suffix = randomBytes(4).toString("hex");

  await step("sign in (nonce, sign, verify)", async () => {
    const nonce = await call("POST", `${target.auth}/auth/nonce`, { step: "nonce", body: json({ walletAddress }), expect: [200] });
    const signature = nacl.sign.detached(new TextEncoder().encode(nonce.body.message), wallet.secretKey);
    const verify = await call("POST", `${target.auth}/auth/verify`, {
      step: "verify",
      body: json({ walletAddress, message: nonce.body.message, signature: bs58.encode(signature) }),
      expect: [200],
    });
    token = verify.body.accessToken;
    const me = await call("GET", `${target.auth}/auth/me`, { step: "me", headers: bearer(), expect: [200] });
    if (me.body.sub !== walletAddress && me.body.claims?.sub !== walletAddress) throw new SmokeFailure("sign in", me, "token is not for this wallet");
    return `wallet ${walletAddress}`;
  });

  await step("register influencer", async () => {
    const res = await call("POST", `${target.influencer}/api/v1/influencers`, {
      step: "register influencer",
      headers: bearer(),
      body: json({ username: `smoke_${suffix}`, displayName: "Smoke Test", email: `smoke+${suffix}@example.com` }),
      expect: [201],
    });
    return `@${res.body.username}`;
  });

  let poolId = "";
  await step("create staking pool", async () => {
    const res = await call("POST", `${target.influencer}/api/v1/pools`, {
      step: "create pool",
      headers: bearer(),
      body: json({ name: `Smoke pool ${suffix}`, revenueShareBps: 2000, minStake: "1" }),
      expect: [201],
    });
    poolId = res.body.pool.id;
    return `pool ${poolId}, 20% to stakers`;
  });

  let earned = 0n;
  await step("submit signed VAUs through the edge", async () => {
    const deviceId = `smoke-device-${suffix}`;
    let sent = 0;
    for (let i = 0; i < 3; i++) {
      const body = json({ deviceId, siteId: "smoke.example", timestamp: Date.now() - 1000 - i, activeMs: 30_000 });
      const res = await call("POST", `${target.edge}/api/v1/vau`, {
        step: "VAU",
        headers: { ...bearer(), ...(await signedHeaders("POST", "/api/v1/vau", body, keys.vauSigningKey)) },
        body,
        expect: [200],
      });
      earned += BigInt(res.body.earned);
      sent++;
    }
    if (earned === 0n) throw new SmokeFailure("VAU", null, "the edge accepted the VAUs but earned nothing");
    return `${sent} VAUs accepted, ${earned} base units earned`;
  });

  await step("reward credited in the backend ledger", async () => {
    const available = await eventually("reward credit", async () => {
      const res = await call("GET", `${target.influencer}/api/v1/me/balance`, { step: "balance", headers: bearer(), expect: [200] });
      return BigInt(res.body.available) >= earned ? res.body.available : undefined;
    });
    return `available ${available}`;
  });

  const stake = earned / 2n > 0n ? earned / 2n : 1n;
  await step("stake", async () => {
    const idempotencyKey = randomUUID();
    const request = () =>
      call("POST", `${target.influencer}/api/v1/pools/${poolId}/stake`, {
        step: "stake",
        headers: { ...bearer(), "Idempotency-Key": idempotencyKey },
        body: json({ amount: stake.toString() }),
        expect: [200],
      });
    await request();
    await request(); // replayed key: one effect
    const stakes = await call("GET", `${target.influencer}/api/v1/me/stakes`, { step: "stakes", headers: bearer(), expect: [200] });
    const position = stakes.body.stakes.find((s: { poolId: string }) => s.poolId === poolId);
    if (!position || BigInt(position.staked) !== stake) throw new SmokeFailure("stake", stakes, `expected one stake of ${stake}`);
    return `${stake} staked (Idempotency-Key replay had no second effect)`;
  });

  let code = "";
  await step("create referral link", async () => {
    const res = await call("POST", `${target.influencer}/api/v1/links`, {
      step: "create link",
      headers: bearer(),
      body: json({ targetUrl: merchantUrl, productId: "widget" }),
      expect: [201],
    });
    code = res.body.code;
    return `${res.body.url}`;
  });

  let clickId = "";
  await step("follow the link (302, click counted)", async () => {
    const res = await call("GET", `${target.influencer}/l/${code}`, {
      step: "follow link",
      redirect: "manual",
      headers: { "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) TWIST-smoke" },
      expect: [302],
    });
    const location = new URL(res.headers.get("location") ?? "");
    const expected = new URL(merchantUrl);
    clickId = location.searchParams.get("twist_click") ?? "";
    location.searchParams.delete("twist_click");
    if (location.toString() !== expected.toString() || !clickId) {
      throw new SmokeFailure("follow link", res, `unexpected Location ${location}`);
    }
    return `-> ${res.headers.get("location")}`;
  });

  const orderAmount = 1000n * TWIST;
  let commission = 0n;
  await step("merchant posts a signed conversion", async () => {
    const body = json({ orderId: `smoke-${suffix}`, clickId, amount: orderAmount.toString(), currency: "TWIST" });
    const res = await call("POST", `${target.influencer}/api/v1/conversions`, {
      step: "conversion",
      headers: await signedHeaders("POST", "/api/v1/conversions", body, keys.merchantSigningKey),
      body,
      expect: [201],
    });
    commission = BigInt(res.body.commission);
    if (commission <= 0n) throw new SmokeFailure("conversion", res, "no commission booked");
    return `order ${orderAmount} -> commission ${commission}`;
  });

  await step("commission and stakers' share visible", async () => {
    const stats = await call("GET", `${target.influencer}/api/v1/links/${code}/stats`, { step: "stats", headers: bearer(), expect: [200] });
    const totals = stats.body.totals;
    if (totals?.conversions !== 1 || totals.commission?.TWIST !== commission.toString() || totals.clicks < 1) {
      throw new SmokeFailure("stats", stats, "stats do not show the click, the conversion and its commission");
    }
    const balance = await call("GET", `${target.influencer}/api/v1/me/balance`, { step: "balance", headers: bearer(), expect: [200] });
    // This wallet is the influencer and the pool's only staker: it holds the whole commission, split
    // between the stakers' share (claimable; capped by the pool's tier) and the influencer's rest.
    const stakersShare = BigInt(balance.body.claimable);
    if (stakersShare <= 0n || stakersShare >= commission || BigInt(balance.body.total) !== earned + commission) {
      throw new SmokeFailure("stakers' share", balance, `expected the commission ${commission} split between a stakers' share and the influencer, total ${earned + commission}`);
    }
    return `1 click, 1 conversion, commission ${commission}: stakers' share ${stakersShare}, influencer ${commission - stakersShare}`;
  });

  await step("claim staking rewards", async () => {
    const res = await call("POST", `${target.influencer}/api/v1/pools/${poolId}/claim`, {
      step: "claim",
      headers: { ...bearer(), "Idempotency-Key": randomUUID() },
      body: json({}),
      expect: [200],
    });
    return `claimed ${JSON.stringify(res.body.claimed ?? res.body.amount ?? res.body)}`;
  });

  await step("request a payout and see it settled", async () => {
    const amount = 20n * TWIST;
    const res = await call("POST", `${target.influencer}/api/v1/payouts`, {
      step: "payout",
      headers: { ...bearer(), "Idempotency-Key": randomUUID() },
      body: json({ amount: amount.toString() }),
      expect: [202],
    });
    const id = res.body.payout.id;
    const settled = await eventually("payout settlement", async () => {
      const p = await call("GET", `${target.influencer}/api/v1/payouts/${id}`, { step: "payout status", headers: bearer(), expect: [200] });
      if (p.body.payout.status === "voided") throw new SmokeFailure("payout", p, "payout was voided");
      return p.body.payout.status === "settled" ? p.body.payout : undefined;
    });
    return `payout ${id} of ${amount} settled (net ${settled.net}, adapter ${settled.adapter ?? "ledger"})`;
  });

  return steps;
}
