// The money services built once per app: the ledger and everything that moves money through it.
import type Redis from "ioredis";
import type { Sequelize } from "sequelize";
import type { Logger } from "@twist/shared/logger";
import type { InfluencerConfig } from "../config";
import type { OnCommissionBooked } from "../conversions/types";
import { PayoutService } from "../payouts/service";
import { PoolCache } from "../pools/cache";
import { PoolService } from "../pools/service";
import { RewardCredits } from "../rewards/credit";
import { SettlementQueue, settlementQueueOptions } from "../settlement";
import { Ledger } from "./ledger";

export interface MoneyServices {
  ledger: Ledger;
  credits: RewardCredits;
  pools: PoolService;
  payouts: PayoutService;
  settlementQueue: SettlementQueue;
  /** The commission hook: distributes a booked commission to the pool's stakers and the influencer. */
  onCommissionBooked: OnCommissionBooked;
  close(): Promise<void>;
}

export function createMoneyServices(config: InfluencerConfig, sequelize: Sequelize, redis: Redis, logger: Logger): MoneyServices {
  const ledger = new Ledger(sequelize);
  const pools = new PoolService(sequelize, ledger, new PoolCache(redis, config.POOL_CACHE_TTL_SECONDS, logger), logger);
  const settlementQueue = new SettlementQueue(settlementQueueOptions(config));
  return {
    ledger,
    credits: new RewardCredits(ledger, { dailyCap: config.REWARD_DAILY_CAP }, logger),
    pools,
    payouts: createPayoutService(config, sequelize, ledger),
    settlementQueue,
    onCommissionBooked: async (t, booked) => {
      await pools.distribute(t, booked);
      // Cached pool reads carry the APY; refresh them once the conversion commits.
      t.afterCommit(() => void pools.cache.invalidate());
    },
    close: () => settlementQueue.close(),
  };
}

export function createPayoutService(config: InfluencerConfig, sequelize: Sequelize, ledger: Ledger): PayoutService {
  return new PayoutService(sequelize, ledger, { minAmount: config.PAYOUT_MIN_AMOUNT, feeFlat: config.PAYOUT_FEE_FLAT, feeBps: config.PAYOUT_FEE_BPS }, config.SETTLEMENT_ADAPTER);
}
