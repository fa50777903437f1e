// The pure functions behind ingest and the consumer: vauId, trust, earnings, hour keys, backoff.
import { expect } from "chai";
import { createHash } from "node:crypto";
import { earnedFor, hourStart, MAX_RETRY_DELAY_SECONDS, parseHistory, recordActivity, retryDelaySeconds, trustScore, TRUST, vauIdOf, type DeviceHistory } from "../src/scoring";

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);

describe("edge scoring functions", () => {
  it("derives the vauId as sha256 of sub, deviceId, siteId and timestamp joined by newlines", async () => {
    const id = await vauIdOf("Wallet111", "dev", "site", 1700000000000);
    expect(id).to.equal(createHash("sha256").update("Wallet111\ndev\nsite\n1700000000000").digest("hex"));
    expect(await vauIdOf("Wallet111", "dev", "site", 1700000000001)).to.not.equal(id);
  });

  it("gives a device without history the base trust and saturates at 1 for an old, busy device", () => {
    expect(trustScore(null, NOW)).to.equal(TRUST.base);
    const veteran: DeviceHistory = { firstSeen: NOW - 30 * DAY, lastSeen: NOW - 1000, total: 5000, windowStart: NOW - 60_000, windowCount: 10 };
    expect(trustScore(veteran, NOW)).to.equal(1);
  });

  it("grows with device age and volume", () => {
    const young: DeviceHistory = { firstSeen: NOW - DAY, lastSeen: NOW, total: 10, windowStart: NOW, windowCount: 1 };
    const older = { ...young, firstSeen: NOW - 5 * DAY };
    const busier = { ...young, total: 500 };
    expect(trustScore(older, NOW)).to.be.greaterThan(trustScore(young, NOW));
    expect(trustScore(busier, NOW)).to.be.greaterThan(trustScore(young, NOW));
  });

  it("halves the score for a burst of recent activity and forgets the burst after the hour", () => {
    const calm: DeviceHistory = { firstSeen: NOW - 30 * DAY, lastSeen: NOW, total: 5000, windowStart: NOW - 60_000, windowCount: 100 };
    const burst = { ...calm, windowCount: 2 * TRUST.burstPerHour };
    expect(trustScore(burst, NOW)).to.equal(0.5);
    expect(trustScore({ ...burst, windowStart: NOW - 2 * 3_600_000 }, NOW)).to.equal(1);
  });

  it("records activity into the history and rolls the hourly window", () => {
    const first = recordActivity(null, NOW);
    expect(first).to.deep.equal({ firstSeen: NOW, lastSeen: NOW, total: 1, windowStart: NOW, windowCount: 1 });
    const second = recordActivity(first, NOW + 1000);
    expect(second).to.include({ total: 2, windowCount: 2, windowStart: NOW });
    const later = recordActivity(second, NOW + 2 * 3_600_000);
    expect(later).to.include({ total: 3, windowCount: 1, windowStart: NOW + 2 * 3_600_000, firstSeen: NOW });
  });

  it("treats a malformed stored history as none", () => {
    expect(parseHistory(null)).to.equal(null);
    expect(parseHistory({ firstSeen: "x" })).to.equal(null);
    expect(parseHistory(recordActivity(null, NOW))).to.not.equal(null);
  });

  it("earns one TWIST per active hour at full trust, scaled by trust, capped per VAU", () => {
    const cap = 10n ** 12n;
    expect(earnedFor(1, 3_600_000, cap)).to.equal(10n ** 9n);
    expect(earnedFor(0.5, 3_600_000, cap)).to.equal(5n * 10n ** 8n);
    expect(earnedFor(0.1, 60_000, cap)).to.equal(1_666_666n);
    expect(earnedFor(1, 3_600_000, 1000n)).to.equal(1000n);
    expect(earnedFor(0, 3_600_000, cap)).to.equal(0n);
    expect(earnedFor(1, 0, cap)).to.equal(0n);
  });

  it("keys hours by the UTC hour of the event", () => {
    const boundary = Date.UTC(2026, 10, 22, 13, 0, 0);
    expect(hourStart(boundary - 1)).to.equal(boundary - 3_600_000);
    expect(hourStart(boundary)).to.equal(boundary);
  });

  it("backs off exponentially from the base delay and caps at 12 hours", () => {
    expect([1, 2, 3, 4].map((a) => retryDelaySeconds(a, 30))).to.deep.equal([30, 60, 120, 240]);
    expect(retryDelaySeconds(40, 30)).to.equal(MAX_RETRY_DELAY_SECONDS);
    expect(retryDelaySeconds(3, 0)).to.equal(0);
  });
});
