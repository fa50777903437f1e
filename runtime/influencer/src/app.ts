// The influencer API: createApp(config, deps) builds the Express app and everything behind it
// (Sequelize, Redis, identity, click recorder) and returns close() that flushes and releases it all.
import type { Express, Router } from "express";
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
import { clickRedirect } from "./clicks/redirect";
import { conversionsRouter } from "./conversions/router";
import { ConversionService } from "./conversions/service";
import { EventsGateway } from "./events/gateway";
import { eventsRouter } from "./events/router";
import { influencersRouter } from "./influencers/router";
import { createMoneyServices, type MoneyServices } from "./ledger/wiring";
import { writeLimitsRouter } from "./limits/write-limits";
import { linksRouter } from "./links/router";
import { LinkService } from "./links/service";
import { historyRouter } from "./me/history";
import { meRouter } from "./me/router";
import { notificationsRouter } from "./notifications/router";
import { payoutsRouter } from "./payouts/router";
import { poolsRouter } from "./pools/router";
import { rewardsRouter } from "./rewards/router";
import { statsRouter } from "./stats/router";

export interface AppDeps {
  logger?: Logger;
  mailer?: Mailer;
  /** Called when a conversion books its commission; default: the ledger distributes it to the pool. */
  onCommissionBooked?: OnCommissionBooked;
  /** Clock, injectable so tests can place clicks and conversions in time. */
  now?: () => Date;
  /** Pin JWT "now" (Unix seconds) — contract vector tests only. */
  jwtClockTimestamp?: number;
  /** Served at /openapi.json and /docs (main.ts loads them beside the bundle). */
  apiDocs?: ApiDocs;
}

/** What every feature router receives: shared resources, the identity middlewares and the services behind the routes. */
export interface AppContext {
  config: InfluencerConfig;
  logger: Logger;
  sequelize: Sequelize;
  redis: Redis;
  identity: IdentityMiddlewares;
  identityStore: IdentityStore;
  mailer: Mailer;
  now: () => Date;
  obs: Observability;
  recorder: ClickRecorder;
  links: LinkService;
  conversions: ConversionService;
  /** The ledger and everything that moves money through it. */
  money: MoneyServices;
  /** Called in a conversion's transaction once its commission is booked. */
  onCommissionBooked: OnCommissionBooked;
}

/** The one shape of a feature router: `<feature>/router.ts` exports one of these. */
export type FeatureRouter = (ctx: AppContext) => Router;

/**
 * Mounted in this order. write-limits comes first (it limits the writes of the routers after it, per
 * wallet); each router owns its paths, so the order among the others does not matter. The click
 * redirect is not among them: it is a front route, served ahead of Express (frontRoutes in createApp).
 */
const FEATURE_ROUTERS: readonly FeatureRouter[] = [
  writeLimitsRouter,
  influencersRouter,
  statsRouter,
  linksRouter,
  conversionsRouter,
  rewardsRouter,
  poolsRouter,
  payoutsRouter,
  meRouter,
  notificationsRouter,
  eventsRouter,
  historyRouter,
];

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
  // The click redirect's one round trip (ClickRecorder.admit), on a connection of its own so it never
  // queues behind the recorder's stream reads. Not auto-pipelined: with one command per request
  // turn, ioredis's pipeline per command cost 13 % more CPU per redirect; admit corks the socket
  // for the turn instead (bench/clicks).
  const clickRedis = createRedis(config.REDIS_URL, config.REDIS_PREFIX);
  const identityStore = new IdentityStore(sequelize, redis, logger);
  const identity = createIdentityMiddlewares(config.JWT_KEYS, identityStore, { clockTimestamp: deps.jwtClockTimestamp });
  const mailer = deps.mailer ?? createMailer(config, logger);
  const now = deps.now ?? (() => new Date());
  const money = createMoneyServices(config, sequelize, redis, logger);
  // The ledger distributes booked commissions unless the caller brings its own handler.
  const onCommissionBooked = deps.onCommissionBooked ?? money.onCommissionBooked;

  // Built in the frontRoutes callback below (it needs the metrics registry), which runs synchronously first.
  let context!: AppContext;
  let events!: EventsGateway;
  const { app } = createServiceApp({
    service: "influencer",
    logger,
    apiDocs: deps.apiDocs,
    readiness: {
      postgres: () => sequelize.query("SELECT 1"),
      redis: () => redis.ping(),
    },
    frontRoutes: (obs) => {
      const recorder = new ClickRecorder(redis, sequelize, logger, obs.registry, { admitRedis: clickRedis });
      const links = new LinkService({
        sequelize,
        redis,
        merchantDomains: config.MERCHANT_DOMAINS,
        publicBaseUrl: config.PUBLIC_BASE_URL,
        defaultCommissionBps: config.COMMISSION_DEFAULT_BPS,
        now,
      });
      const conversions = new ConversionService({
        sequelize,
        model: config.ATTRIBUTION_MODEL,
        windowDays: config.ATTRIBUTION_WINDOW_DAYS,
        defaultCommissionBps: config.COMMISSION_DEFAULT_BPS,
        now,
        // Redis (or Postgres) down while flushing: 503, and the merchant retries.
        flushClicks: () => redisOp(() => recorder.flush()),
        onCommissionBooked,
      });
      context = { config, logger, sequelize, redis, identity, identityStore, mailer, now, obs, recorder, links, conversions, money, onCommissionBooked };
      // The redirect: served ahead of Express itself (docs/influencer.md).
      return [clickRedirect(context)];
    },
    routes: (app, obs) => {
      for (const router of FEATURE_ROUTERS) app.use(router(context));
      events = new EventsGateway({ config, identity, sequelize, logger, registry: obs.registry });
      // Last: Postgres outages from any route above become 503 (Redis ones already are, via redisOp).
      app.use(databaseOutageAs503);
    },
  });
  // Accepted clicks are durable in Redis; this writes them through to Postgres in the background
  // (stats read Postgres only), not just when a conversion or a shutdown flushes.
  const { recorder } = context;
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
