// The queue consumer: delivers reward messages to the backend's POST /internal/v1/rewards (signed,
// contract 3) and settles each message from the backend's per-item answer.
//   credited | duplicate           -> ack
//   rejected, or invalid on queue  -> copy to REWARDS_DLQ, ack (permanent)
//   failed, network error, non-2xx,
//   invalid response               -> retry with exponential backoff; after maxRetries the platform
//                                     moves the message to the dead-letter queue
// Every dead letter, of each cause, is also one DEAD_LETTERS data point (analytics.ts): the only
// count across isolates, which the Grafana alert EdgeDeadLetters reads (docs/monitoring.md).
import { MAX_DELIVERY_BATCH, validateDeliveryResponse, validateRewardMessage, type RewardDeliveryResult, type RewardMessageV1 } from "@twist/shared/messages";
import { signedHeaders } from "@twist/shared/signed-request";
import { queues } from "../bindings";
import { type DeadLetterCause, deadLetterPoint, record } from "./analytics";
import { loadConfig } from "./config";
import type { Env } from "./env";
import { log } from "./log";
import { inc } from "./metrics";
import { retryDelaySeconds } from "./scoring";

export const DELIVERY_PATH = "/internal/v1/rewards";
const DELIVERY_TIMEOUT_MS = 10_000;
/** The deployed consumer's retry limit (infra declares the QueueConsumer from the same entry). */
const MAX_RETRIES = queues.find((q) => q.queue === "rewards")!.consumer!.maxRetries;

/** True when a retry of this delivery is the platform's cue to dead-letter the message. */
export const isLastAttempt = (attempts: number, maxRetries = MAX_RETRIES): boolean => attempts > maxRetries;

export async function consume(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const loaded = loadConfig(env);
  if (!loaded.ok) {
    log("error", "consumer misconfigured; retrying the batch", { problems: loaded.problems });
    for (const m of batch.messages) m.retry({ delaySeconds: retryDelaySeconds(m.attempts, 30) });
    return;
  }
  const config = loaded.config;
  const deadLettered = (m: Message<unknown>, cause: DeadLetterCause) => {
    inc("twist_edge_consumer_messages_total", { outcome: "dead_lettered" });
    record(env.DEAD_LETTERS, deadLetterPoint(cause, m.attempts));
  };
  const retry = (m: Message<unknown>, reason: string) => {
    if (isLastAttempt(m.attempts)) {
      deadLettered(m, "retries_exhausted");
      log("warn", "reward delivery failed its last attempt; the platform dead-letters it", { id: idOf(m.body), attempts: m.attempts, reason });
      m.retry();
      return;
    }
    inc("twist_edge_consumer_messages_total", { outcome: "retried" });
    log("warn", "reward delivery will be retried", { id: idOf(m.body), attempts: m.attempts, reason });
    m.retry({ delaySeconds: retryDelaySeconds(m.attempts, config.retryBaseDelaySeconds) });
  };
  const deadLetter = async (m: Message<unknown>, cause: Exclude<DeadLetterCause, "retries_exhausted">, reason: string) => {
    try {
      await env.REWARDS_DLQ.send(m.body, { contentType: "json" });
    } catch (err) {
      // Could not park it: keep it on the queue instead of losing it.
      retry(m, `dead-letter send failed: ${String(err)}`);
      return;
    }
    deadLettered(m, cause);
    log("warn", "reward message dead-lettered", { id: idOf(m.body), cause, reason });
    m.ack();
  };

  const valid: { message: Message<unknown>; body: RewardMessageV1 }[] = [];
  for (const m of batch.messages) {
    const check = validateRewardMessage(m.body);
    if (check.ok) valid.push({ message: m, body: check.value });
    else await deadLetter(m, "invalid", `invalid message: ${check.errors.join("; ")}`);
  }

  for (let start = 0; start < valid.length; start += MAX_DELIVERY_BATCH) {
    const chunk = valid.slice(start, start + MAX_DELIVERY_BATCH);
    let results: RewardDeliveryResult[];
    try {
      results = await deliver(
        chunk.map((c) => c.body),
        config.backendUrl,
        config.serviceSigningKeys[0]!,
      );
    } catch (err) {
      for (const { message } of chunk) retry(message, String((err as Error).message ?? err));
      continue;
    }
    for (const [n, { message }] of chunk.entries()) {
      const result = results[n]!;
      if (result.status === "credited" || result.status === "duplicate") {
        inc("twist_edge_consumer_messages_total", { outcome: "acked" });
        message.ack();
      } else if (result.status === "rejected") {
        await deadLetter(message, "rejected", `rejected by backend: ${result.code ?? ""} ${result.message ?? ""}`.trim());
      } else {
        retry(message, `backend failed: ${result.code ?? ""} ${result.message ?? ""}`.trim());
      }
    }
  }
}

/** One signed POST; throws on network errors, non-2xx and answers that break the exchange contract. */
async function deliver(messages: RewardMessageV1[], backendUrl: URL, key: string): Promise<RewardDeliveryResult[]> {
  const url = new URL(backendUrl.pathname.replace(/\/+$/, "") + DELIVERY_PATH, backendUrl);
  const body = JSON.stringify({ messages });
  const headers = await signedHeaders("POST", url.pathname + url.search, body, key);
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", "x-request-id": crypto.randomUUID(), ...headers },
    body,
    signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
  });
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`backend answered ${res.status}`);
  }
  let parsed: unknown;
  try {
    parsed = await res.json();
  } catch {
    throw new Error("backend answer is not JSON");
  }
  const check = validateDeliveryResponse(parsed, messages.length);
  if (!check.ok) throw new Error(`backend answer is invalid: ${check.errors.join("; ")}`);
  check.value.results.forEach((r, n) => {
    if (r.id !== null && r.id !== undefined && r.id !== messages[n]!.id) throw new Error("backend answer is out of order");
  });
  return check.value.results;
}

function idOf(body: unknown): string | undefined {
  const id = (body as { id?: unknown } | null)?.id;
  return typeof id === "string" ? id.slice(0, 128) : undefined;
}
