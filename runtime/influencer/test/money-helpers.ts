// Part 2 test helpers on top of part 1's harness (real app, Postgres, Redis): funding through the
// real ledger, signed reward deliveries, idempotent money requests, the invariant check.
import { randomUUID } from "node:crypto";
import { expect } from "chai";
import request from "supertest";
import { signedHeaders } from "@twist/shared/signed-request";
import type { RewardMessageV1 } from "@twist/shared/messages";
import { account, checkLedgerInvariants, Ledger } from "../src/ledger";
import { SERVICE_KEY, type Harness, type User } from "./part1-helpers";

export function ledgerOf(h: Harness): Ledger {
  return new Ledger(h.service.context.sequelize);
}

/** Credits `amount` to a wallet's available balance the way rewards do (system:rewards -> available). */
export async function fund(h: Harness, wallet: string, amount: bigint): Promise<void> {
  const ledger = ledgerOf(h);
  await ledger.transaction((t) =>
    ledger.transfer(t, { id: `test-fund:${randomUUID()}`, from: account.system("rewards"), to: account.available(wallet), amount, kind: "reward", reference: null }),
  );
}

export async function balanceOf(h: Harness, key: string): Promise<bigint> {
  return ledgerOf(h).balance(key);
}

export async function expectLedgerConsistent(h: Harness): Promise<void> {
  const report = await checkLedgerInvariants(h.service.context.sequelize);
  expect(report.violations, report.violations.join("; ")).to.deep.equal([]);
  expect(report.sum).to.equal(0n);
}

/** A money POST with an Idempotency-Key (a fresh one unless given). */
export function moneyPost(h: Harness, user: User, path: string, body: unknown, key: string = `k-${randomUUID()}`) {
  return request(h.app).post(path).set(user.auth).set("Idempotency-Key", key).send(body as object);
}

export function rewardMessage(wallet: string, overrides: Partial<RewardMessageV1> = {}): RewardMessageV1 {
  const now = new Date().toISOString().replace(/\.\d+Z$/, ".000Z");
  return {
    v: 1,
    type: "vau.reward",
    id: `vau_${randomUUID().replace(/-/g, "")}`,
    walletAddress: wallet,
    deviceId: "device-1",
    siteId: "site.example",
    earned: "1000",
    trustScore: 0.9,
    occurredAt: now,
    receivedAt: now,
    ...overrides,
  };
}

/** POST /internal/v1/rewards signed with the service key (contract 3) over the exact bytes sent. */
export async function deliverRewards(h: Harness, body: unknown, key = SERVICE_KEY) {
  const raw = JSON.stringify(body);
  const headers = await signedHeaders("POST", "/internal/v1/rewards", raw, key);
  return request(h.app).post("/internal/v1/rewards").set(headers).set("Content-Type", "application/json").send(raw);
}
