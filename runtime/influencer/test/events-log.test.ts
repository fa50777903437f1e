// The replay log's bounds as the store keeps them: the write path deletes past the count bound only
// every PRUNE_STEP ids, and the reads still give exactly the wallet's last REPLAY_LOG_MAX_EVENTS.
import { expect } from "chai";
import { EventLog } from "../src/events/log";
import { recordEvents, REPLAY_LOG_MAX_EVENTS } from "../src/events/record";
import { countRows, newWallet, startHarness, type Harness } from "./harness";

describe("events: the replay log's count bound", function () {
  this.timeout(60_000);
  let h: Harness;
  let log: EventLog;
  before(async () => {
    h = await startHarness("events_log");
    log = new EventLog(h.service.context.sequelize);
  });
  after(async () => h?.close());

  const write = (wallet: string, n: number) =>
    h.service.context.sequelize.transaction((t) =>
      recordEvents(
        t,
        Array.from({ length: n }, () => ({ wallet, type: "reward.credited" as const, data: {} })),
      ),
    );

  it("keeps between the bound and one prune step more in the table; reads give exactly the last 1,000", async () => {
    const wallet = newWallet();
    // 1,150 events in deliveries of 10: the head crosses 1,100 (a prune) and stops at 1,150.
    for (let i = 0; i < 115; i++) await write(wallet, 10);
    const stored = await countRows(h, "wallet_events", `wallet = '${wallet}'`);
    expect(stored).to.equal(1_000 + 50);
    const head = await log.head(wallet);
    expect(head).to.equal(1150n);

    const firstKept = head - BigInt(REPLAY_LOG_MAX_EVENTS) + 1n; // 151
    const replay = await log.after(wallet, firstKept - 1n);
    expect(replay).to.have.length(REPLAY_LOG_MAX_EVENTS);
    expect(replay[0]!.id).to.equal(firstKept.toString());
    expect(await log.gapAfter(wallet, firstKept - 1n, head)).to.equal(null);
    // Event 150 is still stored but outside the window: a client that needs it is told to refetch.
    expect(await countRows(h, "wallet_events", `wallet = '${wallet}' AND id = ${firstKept - 1n}`)).to.equal(1);
    expect(await log.gapAfter(wallet, firstKept - 2n, head)).to.equal(firstKept);
    expect((await log.after(wallet, 0n))[0]!.id).to.equal(firstKept.toString());
  });

  it("a delivery that crosses no multiple of the step deletes nothing; the next crossing cuts back to the bound", async () => {
    const wallet = newWallet();
    await write(wallet, 1_095);
    // 0 -> 1,095 crosses multiples of 100 past the bound: cut back to 96..1,095
    expect(await countRows(h, "wallet_events", `wallet = '${wallet}'`)).to.equal(1_000);
    await write(wallet, 4); // head 1,099: no crossing
    expect(await countRows(h, "wallet_events", `wallet = '${wallet}'`)).to.equal(1_004);
    await write(wallet, 2); // head 1,101: crosses 1,100
    expect(await countRows(h, "wallet_events", `wallet = '${wallet}'`)).to.equal(1_000);
    expect((await log.after(wallet, 0n))[0]!.id).to.equal("102");
  });
});
