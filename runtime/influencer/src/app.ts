// The influencer API: createApp(config, deps) builds the Express app and everything behind it
// (Sequelize, Redis, identity, click recorder) and returns close() that flushes and releases it all.
import type { Express } from "express";
import type Redis from "ioredis";
import type { Sequelize } from "sequelize";
import { createRedis, createServiceApp, type Observability } from "@twist/service";
import { createLogger, type Logger } from "@twist/shared/logger";
import type { InfluencerConfig } from "./config";
import { createSequelize } from "./db";
import { createIdentityMiddlewares, IdentityStore, type IdentityMiddlewares } from "./identity";
import { LogMailer, type Mailer } from "./mail";
import type { OnCommissionBooked } from "./conversions/types";

export interface AppDeps {
  logger?: Logger;
  mailer?: Mailer;
  /** Part 2's ledger handler; when absent conversions still book (no ledger movement). */
  onCommissionBooked?: OnCommissionBooked;
  /** Clock, injectable so tests can place clicks and conversions in time. */
  now?: () => Date;
  /** Pin JWT "now" (Unix seconds) — contract vector tests only. */
  jwtClockTimestamp?: number;
}

/** What routers receive: shared resources and the identity middlewares. */
export interface AppContext {
  config: InfluencerConfig;
  logger: Logger;
  sequelize: Sequelize;
  redis: Redis;
  identity: IdentityMiddlewares;
  identityStore: IdentityStore;
  mailer: Mailer;
  now: () => Date;
  obs?: Observability;
  onCommissionBooked?: OnCommissionBooked;
}

export interface InfluencerApp {
  app: Express;
  context: AppContext;
  /** Writes every accepted click through to Postgres (tests, shutdown). */
  flush(): Promise<void>;
  /** Flushes, stops background work and closes Postgres and Redis. */
  close(): Promise<void>;
}

export function createApp(config: InfluencerConfig, deps: AppDeps = {}): InfluencerApp {
  const logger = deps.logger ?? createLogger("influencer", { level: config.LOG_LEVEL });
  const sequelize = createSequelize(config.DATABASE_URL);
  const redis = createRedis(config.REDIS_URL, config.REDIS_PREFIX);
  const identityStore = new IdentityStore(sequelize, redis, logger);
  const identity = createIdentityMiddlewares(config.JWT_KEYS, identityStore, { clockTimestamp: deps.jwtClockTimestamp });
  const context: AppContext = {
    config,
    logger,
    sequelize,
    redis,
    identity,
    identityStore,
    mailer: deps.mailer ?? new LogMailer(logger),
    now: deps.now ?? (() => new Date()),
  };

  // ---- commission hook wiring (part 2 sets its ledger handler here when deps gives none) ----
  context.onCommissionBooked = deps.onCommissionBooked;

  const { app, obs } = createServiceApp({
    service: "influencer",
    logger,
    readiness: {
      postgres: () => sequelize.query("SELECT 1"),
      redis: () => redis.ping(),
    },
    routes: (app, obs) => {
      context.obs = obs;
      // ---- routers are mounted here: one line per router ----
      // ---- part 1 routers above, part 2 routers below ----
    },
  });
  void obs;

  let closed = false;
  return {
    app,
    context,
    flush: async () => {},
    close: async () => {
      if (closed) return;
      closed = true;
      redis.disconnect();
      await sequelize.close();
    },
  };
}
