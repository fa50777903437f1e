// The influencer API: createApp(config, deps) builds the Express app and everything behind it
// (Sequelize, Redis, identity, click recorder) and returns close() that flushes and releases it all.
import type { Express } from "express";
import type Redis from "ioredis";
import type { Sequelize } from "sequelize";
import { type ApiDocs, createRedis, createServiceApp, redisOp, type Observability } from "@twist/service";
import { createLogger, type Logger } from "@twist/shared/logger";
import type { InfluencerConfig } from "./config";
import { createSequelize, databaseOutageAs503 } from "./db";
import { createIdentityMiddlewares, IdentityStore, type IdentityMiddlewares } from "./identity";
import { createMailer, type Mailer } from "./mail";
import type { OnCommissionBooked } from "./conversions/types";
import { ClickRecorder } from "./clicks/recorder";
import { clicksRouter } from "./clicks/router";
import { conversionsRouter } from "./conversions/router";
import { ConversionService } from "./conversions/service";
import { influencersRouter } from "./influencers/router";
import { linksRouter } from "./links/router";
import { LinkService } from "./links/service";
import { statsRouter } from "./stats/router";
import { createMoneyServices } from "./ledger/wiring";
import { historyRouter } from "./me/history";
import { meRouter } from "./me/routes";
import { payoutsRouter } from "./payouts/routes";
import { poolsRouter } from "./pools/routes";
import { rewardsRouter } from "./rewards/routes";
import { EventsGateway } from "./events/gateway";
import { eventsRouter } from "./events/route";
import { notificationsRouter } from "./notifications/routes";
import { writeLimitsRouter } from "./limits/write-limits";

export interface AppDeps {
  logger?: Logger;
  mailer?: Mailer;
  /** Part 2's ledger handler; when absent conversions still book (no ledger movement). */
  onCommissionBooked?: OnCommissionBooked;
  /** Clock, injectable so tests can place clicks and conversions in time. */
  now?: () => Date;
  /** Pin JWT "now" (Unix seconds) — contract vector tests only. */
  jwtClockTimestamp?: number;
  /** Served at /openapi.json and /docs (main.ts loads them beside the bundle). */
  apiDocs?: ApiDocs;
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
  /** The click recorder; its background flusher runs from createApp until close(). */
  recorder: ClickRecorder;
  /** GET /api/v1/events: attach(server) once listening; closed (1001) by close(). */
  events: EventsGateway;
  /** Writes every accepted click through to Postgres (tests, shutdown). */
  flush(): Promise<void>;
  /** Flushes, stops background work and closes Postgres and Redis. */
  close(): Promise<void>;
}

export function createApp(config: InfluencerConfig, deps: AppDeps = {}): InfluencerApp {
  const logger = deps.logger ?? createLogger("influencer", { level: config.LOG_LEVEL });
  const sequelize = createSequelize(config.DATABASE_URL);
  const redis = createRedis(config.REDIS_URL, config.REDIS_PREFIX);
  // The click redirect's one round trip, auto-pipelined on its own connection (ClickRecorder.admit).
  const clickRedis = createRedis(config.REDIS_URL, config.REDIS_PREFIX, undefined, { autoPipelining: true });
  const identityStore = new IdentityStore(sequelize, redis, logger);
  const identity = createIdentityMiddlewares(config.JWT_KEYS, identityStore, { clockTimestamp: deps.jwtClockTimestamp });
  const context: AppContext = {
    config,
    logger,
    sequelize,
    redis,
    identity,
    identityStore,
    mailer: deps.mailer ?? createMailer(config, logger),
    now: deps.now ?? (() => new Date()),
  };

  // ---- commission hook wiring (part 2 sets its ledger handler here when deps gives none) ----
  const money = createMoneyServices(config, sequelize, redis, logger);
  context.onCommissionBooked = deps.onCommissionBooked ?? money.onCommissionBooked;

  // Set by the callbacks below (they need the metrics registry), which run synchronously.
  let recorder!: ClickRecorder;
  let events!: EventsGateway;
  const { app } = createServiceApp({
    service: "influencer",
    logger,
    apiDocs: deps.apiDocs,
    readiness: {
      postgres: () => sequelize.query("SELECT 1"),
      redis: () => redis.ping(),
    },
    // The redirect: ahead of helmet, the docs, the body parser and every router below (docs/influencer.md).
    leanRoutes: (app, obs) => {
      recorder = new ClickRecorder(redis, sequelize, logger, obs.registry, { admitRedis: clickRedis });
      app.use(clicksRouter(context, recorder));
    },
    routes: (app, obs) => {
      context.obs = obs;
      // ---- routers are mounted here: one line per router ----
      const links = new LinkService({
        sequelize,
        redis,
        merchantDomains: config.MERCHANT_DOMAINS,
        publicBaseUrl: config.PUBLIC_BASE_URL,
        defaultCommissionBps: config.COMMISSION_DEFAULT_BPS,
        now: context.now,
      });
      const conversions = new ConversionService({
        sequelize,
        model: config.ATTRIBUTION_MODEL,
        windowDays: config.ATTRIBUTION_WINDOW_DAYS,
        defaultCommissionBps: config.COMMISSION_DEFAULT_BPS,
        now: context.now,
        // Redis (or Postgres) down while flushing: 503, and the merchant retries.
        flushClicks: () => redisOp(() => recorder.flush()),
        onCommissionBooked: context.onCommissionBooked,
      });
      // Ahead of the routers whose writes it limits per wallet.
      app.use(writeLimitsRouter(context));
      app.use(influencersRouter(context));
      app.use(statsRouter(context, links));
      app.use(linksRouter(context, links));
      app.use(conversionsRouter(context, conversions));
      // ---- part 1 routers above, part 2 routers below ----
      app.use(rewardsRouter(money.credits, config.SERVICE_SIGNING_KEYS, obs.registry));
      app.use(poolsRouter(money.pools, sequelize, identity, config.POOL_CACHE_TTL_SECONDS));
      app.use(payoutsRouter(money.payouts, money.settlementQueue, sequelize, identity, logger));
      app.use(meRouter(money.ledger, money.pools, identity));
      app.use(notificationsRouter(sequelize, identity));
      app.use(eventsRouter());
      events = new EventsGateway({ config, identity, sequelize, logger, registry: obs.registry });
      app.use(historyRouter(sequelize, identity));
      // Last: Postgres outages from any route above become 503 (Redis ones already are, via redisOp).
      app.use(databaseOutageAs503);
    },
  });
  // Accepted clicks are durable in Redis; this writes them through to Postgres in the background
  // (stats read Postgres only), not just when a conversion or a shutdown flushes.
  recorder.start();

  let closed = false;
  return {
    app,
    context,
    recorder,
    events,
    flush: async () => {
      await recorder.flush();
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await events.close();
      recorder.stop();
      // Every accepted click is already durable in Redis; write it through before going away.
      await recorder.flush().catch((err: unknown) => logger.error({ err }, "final click flush failed; clicks stay in the Redis stream"));
      await money.close();
      context.mailer.close?.();
      clickRedis.disconnect();
      redis.disconnect();
      await sequelize.close();
    },
  };
}
