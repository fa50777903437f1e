// Sign-in nonces in Redis. Issuing writes three keys in one transaction:
//   nonce:<n>          the live nonce {address, issuedAt, expiresAt}, Redis TTL = nonce lifetime (5 min)
//   nonce-state:<n>    "issued", later "used"; lives longer, so an expired or replayed nonce gets
//                      its own error code instead of "unknown"
//   wallet-nonce:<a>   "this wallet has an outstanding nonce", so a message carrying a nonce that was
//                      never issued reads NONCE_MISMATCH for a wallet that did ask for one
// Consuming is one Lua script: every check against what was issued and the single-use delete happen
// atomically, so of any number of concurrent verifies of one nonce exactly one gets "OK". A refused
// attempt changes nothing: only a verified signature from the bound wallet can burn its nonce.
import { randomBytes } from "node:crypto";
import type Redis from "ioredis";
import { unavailable } from "@twist/shared/errors";
import { redisOp } from "@twist/service";

export const NONCE_TTL_MS = 5 * 60 * 1000;
/** How long "issued"/"used" markers outlive the nonce: replays and late attempts keep their codes. */
export const NONCE_STATE_TTL_MS = 30 * 60 * 1000;

export interface IssuedNonce {
  nonce: string;
  address: string;
  issuedAt: number;
  expiresAt: number;
}

export type ConsumeOutcome =
  | "OK"
  | "NONCE_UNKNOWN"
  | "NONCE_MISMATCH"
  | "NONCE_EXPIRED"
  | "NONCE_REPLAYED"
  | "NONCE_ADDRESS_MISMATCH"
  | "ISSUED_AT_MISMATCH"
  | "EXPIRATION_MISMATCH"
  | "MESSAGE_EXPIRED";

// KEYS: live, state, wallet marker. ARGV: now ms, address, message Issued At ms, message Expiration
// Time ms, state TTL ms. The checks run in this order; only the last branch writes.
const CONSUME = `
local rec = redis.call('GET', KEYS[1])
if not rec then
  local state = redis.call('GET', KEYS[2])
  if state == 'used' then return 'NONCE_REPLAYED' end
  if state then return 'NONCE_EXPIRED' end
  if redis.call('EXISTS', KEYS[3]) == 1 then return 'NONCE_MISMATCH' end
  return 'NONCE_UNKNOWN'
end
local issued = cjson.decode(rec)
local now = tonumber(ARGV[1])
if issued.address ~= ARGV[2] then return 'NONCE_ADDRESS_MISMATCH' end
if now >= issued.expiresAt then return 'NONCE_EXPIRED' end
if tonumber(ARGV[3]) ~= issued.issuedAt then return 'ISSUED_AT_MISMATCH' end
local expiration = tonumber(ARGV[4])
if expiration > issued.expiresAt then return 'EXPIRATION_MISMATCH' end
if now >= expiration then return 'MESSAGE_EXPIRED' end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], 'used', 'PX', ARGV[5])
return 'OK'`;

type WithConsume = Redis & {
  consumeSignInNonce(live: string, state: string, wallet: string, now: string, address: string, issuedAt: string, expiration: string, stateTtl: string): Promise<string>;
};

export class NonceStore {
  private readonly redis: WithConsume;

  constructor(redis: Redis) {
    if (!("consumeSignInNonce" in redis)) redis.defineCommand("consumeSignInNonce", { numberOfKeys: 3, lua: CONSUME });
    this.redis = redis as WithConsume;
  }

  /** A fresh 128-bit nonce bound to `address`, valid for NONCE_TTL_MS from `now`. */
  async issue(address: string, now: number): Promise<IssuedNonce> {
    const issued: IssuedNonce = { nonce: randomBytes(16).toString("hex"), address, issuedAt: now, expiresAt: now + NONCE_TTL_MS };
    const record = JSON.stringify({ address, issuedAt: issued.issuedAt, expiresAt: issued.expiresAt });
    const results = await redisOp(() =>
      this.redis
        .multi()
        .set(liveKey(issued.nonce), record, "PX", NONCE_TTL_MS, "NX")
        .set(stateKey(issued.nonce), "issued", "PX", NONCE_STATE_TTL_MS)
        .set(walletKey(address), "1", "PX", NONCE_TTL_MS)
        .exec(),
    );
    // SET NX refuses only on a 128-bit collision; a failed transaction is the store misbehaving.
    if (!results || results.some(([err]) => err) || results[0]?.[1] !== "OK") throw unavailable("the nonce store did not accept the nonce");
    return issued;
  }

  /** Checks the message's nonce, address and instants against what was issued and consumes it on success. */
  async consume(input: { nonce: string; address: string; issuedAt: number; expirationTime: number; now: number }): Promise<ConsumeOutcome> {
    const outcome = await redisOp(() =>
      this.redis.consumeSignInNonce(
        liveKey(input.nonce),
        stateKey(input.nonce),
        walletKey(input.address),
        String(input.now),
        input.address,
        String(input.issuedAt),
        String(input.expirationTime),
        String(NONCE_STATE_TTL_MS),
      ),
    );
    return outcome as ConsumeOutcome;
  }
}

export const liveKey = (nonce: string) => `nonce:${nonce}`;
const stateKey = (nonce: string) => `nonce-state:${nonce}`;
const walletKey = (address: string) => `wallet-nonce:${address}`;
