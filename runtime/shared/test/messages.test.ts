import { expect } from "chai";
import { validateDeliveryResponse, validateRewardMessage, type RewardMessageV1 } from "@twist/shared/messages";

const baseline: RewardMessageV1 = {
  v: 1,
  type: "vau.reward",
  id: "6538f7dc1f6633df0ed57ba7fc8620210d0fc32a10d8beaa2ac5a43f8f055510",
  walletAddress: "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin",
  deviceId: "device-0001",
  siteId: "news.example.com",
  earned: "1500000",
  trustScore: 0.82,
  occurredAt: "2026-01-01T00:00:00.000Z",
  receivedAt: "2026-01-01T00:00:01.250Z",
};

describe("contract 4: reward messages", () => {
  it("accepts the baseline message", () => {
    expect(validateRewardMessage(baseline)).to.deep.equal({ ok: true, value: baseline });
  });

  it("rejects unknown versions before looking at anything else", () => {
    for (const v of [2, 0, "1", undefined]) {
      const result = validateRewardMessage({ ...baseline, v });
      expect(result.ok).to.equal(false);
      if (!result.ok)
        expect(result.errors)
          .to.have.length(1)
          .and.to.match(/unsupported message version/);
    }
  });

  const broken: [string, Partial<Record<keyof RewardMessageV1, unknown>> & Record<string, unknown>, RegExp][] = [
    ["wrong type", { type: "vau.other" }, /type/],
    ["id with a slash", { id: "a/b" }, /id/],
    ["wallet that is not base58", { walletAddress: "0OIl0OIl0OIl0OIl0OIl0OIl0OIl0OIl" }, /walletAddress/],
    ["wallet of 31 bytes", { walletAddress: "1111111111111111111111111111111" }, /walletAddress/],
    ["decimal amount", { earned: "1.5" }, /earned/],
    ["negative amount", { earned: "-1" }, /earned/],
    ["zero amount", { earned: "0" }, /earned/],
    ["numeric amount", { earned: 1500000 }, /earned/],
    ["exponent amount", { earned: "1e6" }, /earned/],
    ["trust above 1", { trustScore: 1.01 }, /trustScore/],
    ["trust NaN", { trustScore: Number.NaN }, /trustScore/],
    ["non-UTC instant", { occurredAt: "2026-01-01T00:00:00+01:00" }, /occurredAt/],
    ["device with spaces", { deviceId: "my device" }, /deviceId/],
    ["empty site", { siteId: "" }, /siteId/],
    ["unknown field", { extra: true }, /unknown field extra/],
  ];
  for (const [name, change, message] of broken) {
    it(`rejects a ${name}`, () => {
      const result = validateRewardMessage({ ...baseline, ...change });
      expect(result.ok).to.equal(false);
      if (!result.ok) expect(result.errors.join("; ")).to.match(message);
    });
  }

  it("rejects non-objects", () => {
    for (const input of [null, [], "x", 1]) expect(validateRewardMessage(input).ok).to.equal(false);
  });

  it("checks the backend's delivery answer has one known status per message", () => {
    expect(
      validateDeliveryResponse(
        {
          results: [
            { id: "a", status: "credited" },
            { id: "b", status: "failed" },
          ],
        },
        2,
      ).ok,
    ).to.equal(true);
    expect(validateDeliveryResponse({ results: [{ id: "a", status: "credited" }] }, 2).ok).to.equal(false);
    expect(validateDeliveryResponse({ results: [{ id: "a", status: "ok" }] }, 1).ok).to.equal(false);
    expect(validateDeliveryResponse("nope", 1).ok).to.equal(false);
  });
});
