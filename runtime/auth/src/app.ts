// The wallet sign-in service: POST /auth/nonce, POST /auth/verify, GET /auth/me, on the service kit
// (helmet, request ids, envelope, /health /ready; /metrics on the private metrics app). Redis holds nonces and rate-limit
// counters; when it is down sign-in answers 503 and nothing falls back to process memory.
import type { Express, Request } from "express";
import type Redis from "ioredis";
import Joi from "joi";
import { Counter } from "prom-client";
import { ApiError } from "@twist/shared/errors";
import { signIdentityToken } from "@twist/shared/jwt";
import type { Logger } from "@twist/shared/logger";
import { SIGN_IN_FAILURES, buildSiwsMessage } from "@twist/shared/siws";
import { isWalletAddress } from "@twist/shared/wallet";
import { type ApiDocs, clientIp, createServiceApp, enforceRateLimit, rateLimit, requireBearer, validate, type RateLimitRule } from "@twist/service";
import type { AuthConfig } from "./config";
import { NonceStore } from "./nonces";
import { checkSignIn, type SignInRequest } from "./signin";
import { decodeSignature } from "./signature";

export interface AuthDeps {
  redis: Redis;
  logger: Logger;
  /** Milliseconds since the epoch; tests move it to expire nonces and messages without sleeping. */
  now?: () => number;
  /** Served at /openapi.json and /docs (main.ts loads them beside the bundle). */
  apiDocs?: ApiDocs;
}

export const BODY_LIMIT_BYTES = 8 * 1024;
export const MAX_MESSAGE_LENGTH = 2048;

const walletAddress = Joi.string().custom((value: string, helpers) => (isWalletAddress(value) ? value : helpers.message({ custom: "must be a base58 Solana address of 32 bytes" })));

const nonceBody = Joi.object<{ walletAddress: string }>({ walletAddress: walletAddress.required() }).required();

const verifyBody = Joi.object<SignInRequest>({
  walletAddress: walletAddress.required(),
  message: Joi.string().max(MAX_MESSAGE_LENGTH).required(),
  signature: Joi.string()
    .custom((value: string, helpers) => (decodeSignature(value) ? value : helpers.message({ custom: "must be a 64-byte signature in base58 or base64" })))
    .required(),
}).required();

export function createApp(config: AuthConfig, deps: AuthDeps): Express {
  const now = deps.now ?? Date.now;
  const nonces = new NonceStore(deps.redis);
  const { app } = createServiceApp({
    service: "auth",
    logger: deps.logger,
    readiness: { redis: () => deps.redis.ping() },
    bodyLimitBytes: BODY_LIMIT_BYTES,
    apiDocs: deps.apiDocs,
    routes: (a, obs) => {
      const issuedNonces = new Counter({ name: "auth_nonces_issued_total", help: "Sign-in nonces issued", registers: [obs.registry] });
      const signIns = new Counter({
        name: "auth_sign_ins_total",
        help: "Completed /auth/verify checks by outcome (ok or the 401 code)",
        labelNames: ["outcome"],
        registers: [obs.registry],
      });
      for (const outcome of ["ok", ...Object.keys(SIGN_IN_FAILURES)]) signIns.inc({ outcome }, 0);

      const rule = (name: string, limit: number): RateLimitRule => ({ name, limit, windowSeconds: config.RATE_LIMIT_WINDOW_SECONDS });
      const perIp = rateLimit(deps.redis, rule("auth-ip", config.RATE_LIMIT_PER_IP), (req: Request) => clientIp(req, config.TRUSTED_PROXY_HEADER));
      const perWallet = rule("auth-wallet", config.RATE_LIMIT_PER_WALLET);

      a.post("/auth/nonce", perIp, async (req, res) => {
        const body = validate(nonceBody, req.body);
        const issued = await nonces.issue(body.walletAddress, now());
        const issuedAt = new Date(issued.issuedAt).toISOString();
        const expiresAt = new Date(issued.expiresAt).toISOString();
        const message = buildSiwsMessage({
          domain: config.SIWS_DOMAIN,
          address: issued.address,
          uri: config.SIWS_URI,
          chainId: config.SIWS_CHAIN_ID,
          nonce: issued.nonce,
          issuedAt,
          expirationTime: expiresAt,
        });
        issuedNonces.inc();
        res.json({ nonce: issued.nonce, message, issuedAt, expiresAt });
      });

      a.post("/auth/verify", perIp, async (req, res) => {
        const body = validate(verifyBody, req.body);
        const at = now();
        try {
          // The wallet's own budget is spent only by signed requests, so a stranger cannot lock it out.
          await checkSignIn(body, config, nonces, at, () => enforceRateLimit(deps.redis, perWallet, body.walletAddress, res));
        } catch (err) {
          if (err instanceof ApiError && err.status === 401) {
            signIns.inc({ outcome: err.code });
            req.log.info({ outcome: err.code, walletAddress: body.walletAddress }, "sign-in refused");
          }
          throw err;
        }
        const { token, claims } = await signIdentityToken(body.walletAddress, config.JWT_KEYS, { now: Math.floor(at / 1000) });
        signIns.inc({ outcome: "ok" });
        req.log.info({ outcome: "ok", walletAddress: body.walletAddress, jti: claims.jti }, "signed in");
        res.json({ accessToken: token, tokenType: "Bearer", expiresIn: claims.exp - claims.iat });
      });

      a.get("/auth/me", requireBearer(config.JWT_KEYS, { now: () => Math.floor(now() / 1000) }), (req, res) => {
        res.json(req.auth);
      });
    },
  });
  return app;
}
