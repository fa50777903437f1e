// The settlement job queue (BullMQ on Redis). The API enqueues one job per payout (job id = payout
// id); the worker settles it through the adapter and posts, or voids once retries are exhausted.
// Queue name and key prefix are configuration so parallel deployments and test runs never collide.
import { Queue, Worker, type Job } from "bullmq";
import Redis from "ioredis";
import type { Logger } from "@twist/shared/logger";
import type { PayoutService } from "../payouts/service";
import { PermanentSettlementError, type SettlementAdapter } from "./adapter";

export interface SettlementQueueOptions {
  redisUrl: string;
  /** BullMQ key prefix, e.g. REDIS_PREFIX + "bull". */
  prefix: string;
  name: string;
  attempts: number;
  backoffMs: number;
}

interface SettlementJob {
  payoutId: string;
}

export type SettlementOutcome = "settled" | "voided" | "not-pending" | "awaiting-chain";

/** Producer side (API). Fails fast when Redis is down; the worker's sweep re-enqueues what was missed. */
export class SettlementQueue {
  private readonly connection: Redis;
  readonly queue: Queue<SettlementJob>;

  constructor(private readonly options: SettlementQueueOptions) {
    this.connection = new Redis(options.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 });
    this.connection.on("error", () => {});
    this.queue = new Queue<SettlementJob>(options.name, { connection: this.connection, prefix: options.prefix });
    this.queue.on("error", () => {});
  }

  async enqueue(payoutId: string): Promise<void> {
    await this.queue.add(
      "settle",
      { payoutId },
      {
        jobId: payoutId,
        attempts: this.options.attempts,
        backoff: { type: "exponential", delay: this.options.backoffMs },
        removeOnComplete: true,
        removeOnFail: true,
      },
    );
  }

  async close(): Promise<void> {
    await this.queue.close().catch(() => {});
    this.connection.disconnect();
  }
}

/**
 * Settles one payout; the job processor. A failure is retried by BullMQ with the same payout id;
 * the last attempt (or a permanent failure) voids the payout and returns the funds, unless a chain
 * transaction was sent whose fate is still unknown: then the payout stays pending and is retried
 * later (the sweep) until the chain answers.
 */
export async function settlePayout(
  payouts: PayoutService,
  adapter: SettlementAdapter,
  payoutId: string,
  attempt: { number: number; of: number },
  logger: Logger,
): Promise<SettlementOutcome> {
  const payout = await payouts.pendingForSettlement(payoutId);
  if (!payout) return "not-pending";
  try {
    const result = await adapter.settle(payout, {
      recordAttempt: async (sig, height) => {
        if (!(await payouts.recordAttempt(payoutId, sig, height, payout.attemptSignature))) {
          throw new Error("another settlement attempt of this payout was recorded meanwhile; retrying later");
        }
      },
    });
    if (!(await payouts.post(payoutId, result.txSignature))) {
      // Another delivery of this job finished the payout first (posting the same transaction).
      logger.warn({ payoutId, txSignature: result.txSignature }, "payout was no longer pending when posting");
      return "not-pending";
    }
    logger.info({ payoutId, adapter: adapter.name, txSignature: result.txSignature }, "payout settled");
    return "settled";
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    const permanent = err instanceof PermanentSettlementError;
    if (permanent || attempt.number >= attempt.of) {
      const unresolved = !permanent && (await payouts.pendingForSettlement(payoutId))?.attemptSignature;
      if (unresolved) {
        await payouts.countAttempt(payoutId, reason);
        logger.error({ payoutId, reason }, "settlement retries exhausted with a transaction in flight; left pending for the sweep");
        return "awaiting-chain";
      }
      await payouts.void(payoutId, reason);
      logger.warn({ payoutId, reason }, "payout voided; funds returned");
      return "voided";
    }
    await payouts.countAttempt(payoutId, reason);
    logger.warn({ payoutId, reason, attempt: attempt.number }, "settlement attempt failed; will retry");
    throw err;
  }
}

export interface RunningSettlementWorker {
  worker: Worker<SettlementJob, SettlementOutcome>;
  /** Re-enqueues payouts left pending (lost enqueue, chain still undecided). */
  sweep(): Promise<number>;
  /** Jobs waiting, active and delayed (a retry backing off): the settlement backlog. */
  counts(): Promise<Record<"waiting" | "active" | "delayed", number>>;
  close(): Promise<void>;
}

export function startSettlementWorker(
  options: SettlementQueueOptions & { concurrency?: number; sweepEverySeconds?: number; staleAfterSeconds?: number; lockSeconds?: number },
  payouts: PayoutService,
  adapter: SettlementAdapter,
  logger: Logger,
): RunningSettlementWorker {
  const connection = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  connection.on("error", (err) => logger.warn({ err: err.message }, "settlement worker Redis error"));
  const producer = new SettlementQueue(options);
  const lockMs = (options.lockSeconds ?? 30) * 1000;
  const worker = new Worker<SettlementJob, SettlementOutcome>(
    options.name,
    (job: Job<SettlementJob>) => settlePayout(payouts, adapter, job.data.payoutId, { number: job.attemptsMade + 1, of: job.opts.attempts ?? 1 }, logger),
    // A dead worker's job waits for its lock to expire and the next stalled check: both one lock period.
    { connection, prefix: options.prefix, concurrency: options.concurrency ?? 4, lockDuration: lockMs, stalledInterval: lockMs },
  );
  worker.on("error", (err) => logger.warn({ err: err.message }, "settlement worker error"));
  const sweep = async () => {
    const ids = await payouts.stalePending(options.staleAfterSeconds ?? 120);
    for (const id of ids) await producer.enqueue(id);
    return ids.length;
  };
  const timer = setInterval(
    () => {
      sweep().catch((err: unknown) => logger.warn({ err }, "settlement sweep failed"));
    },
    (options.sweepEverySeconds ?? 60) * 1000,
  );
  timer.unref();
  return {
    worker,
    sweep,
    counts: async () => {
      const c = await producer.queue.getJobCounts("waiting", "active", "delayed");
      return { waiting: c.waiting ?? 0, active: c.active ?? 0, delayed: c.delayed ?? 0 };
    },
    close: async () => {
      clearInterval(timer);
      await worker.close();
      await producer.close();
      connection.disconnect();
    },
  };
}
