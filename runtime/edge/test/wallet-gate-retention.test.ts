// The WalletGate's storage stays bounded, in real workerd: its alarm deletes windows that have
// emptied, claims that have expired and histories unused for the retention, keeps what is still
// live, and drops the whole storage once nothing is left. The gate is the bundle's own class, run
// under a harness subclass (the way runInDurableObject reaches an object) that lists the rows, moves
// chosen rows into the past (a window cannot wait 60 s, nor a history 30 days) and fires the alarm.
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Miniflare } from "miniflare";
import { WORKER } from "../bindings";
import { EDGE_BUNDLE } from "../local/miniflare";
import type { Admission, AdmitItem, AdmitRequest } from "../src/objects/admission";
import { HISTORY_RETENTION_MS, RATE_WINDOW_MS } from "../src/retention";
import { waitFor } from "./support";

const HARNESS = `
import { WalletGate } from "./index.js";
const sql = (gate) => gate.ctx.storage.sql;
const column = (gate, table, name) => {
  const exists = sql(gate).exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", table).toArray().length > 0;
  return exists ? sql(gate).exec("SELECT " + name + " AS v FROM " + table + " ORDER BY 1").toArray().map((r) => r.v) : [];
};
export class InspectedGate extends WalletGate {
  alarmsRun = 0;
  async alarm() {
    await super.alarm();
    this.alarmsRun += 1;
  }
  /** The gate's tables and their keys, the pending alarm and how many alarms have run. */
  async stored() {
    const tables = sql(this).exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('windows', 'claims', 'devices')").toArray().map((r) => r.name);
    return {
      tables: tables.sort(),
      windows: column(this, "windows", "bucket"),
      claims: column(this, "claims", "id"),
      devices: column(this, "devices", "device_id"),
      alarm: await this.ctx.storage.getAlarm(),
      alarmsRun: this.alarmsRun,
    };
  }
  /** Moves the named rows ms into the past, as if that much time had gone by for them alone. */
  async age(ms, { buckets = [], claims = [], devices = [] }) {
    for (const bucket of buckets) {
      const [row] = sql(this).exec("SELECT log FROM windows WHERE bucket = ?", bucket).toArray();
      const log = JSON.parse(row.log).map(([at, n]) => [at - ms, n]);
      sql(this).exec("UPDATE windows SET log = ? WHERE bucket = ?", JSON.stringify(log), bucket);
    }
    for (const id of claims) sql(this).exec("UPDATE claims SET expires = expires - ? WHERE id = ?", ms, id);
    for (const id of devices) {
      sql(this).exec("UPDATE devices SET first_seen = first_seen - ?, last_seen = last_seen - ?, window_start = window_start - ? WHERE device_id = ?", ms, ms, ms, id);
    }
  }
  async alarmNow() {
    await this.ctx.storage.setAlarm(Date.now());
  }
}
export default { fetch: () => new Response("harness") };`;

interface Stored {
  tables: string[];
  windows: string[];
  claims: string[];
  devices: string[];
  alarm: number | null;
  alarmsRun: number;
}

interface Gate {
  admit(request: AdmitRequest): Promise<Admission>;
  stored(): Promise<Stored>;
  age(ms: number, rows: { buckets?: string[]; claims?: string[]; devices?: string[] }): Promise<void>;
  alarmNow(): Promise<void>;
}

const HOUR_MS = 3_600_000;
const PAST_WINDOW_MS = RATE_WINDOW_MS + 1_000;
const PAST_RETENTION_MS = HISTORY_RETENTION_MS + 24 * HOUR_MS;

describe("WalletGate storage is bounded by its alarm (workerd)", () => {
  let mf: Miniflare;
  let gate: Gate;

  before(async () => {
    const root = join(EDGE_BUNDLE, "..");
    mf = new Miniflare({
      modulesRoot: root,
      modules: [
        { type: "ESModule", path: join(root, "harness.js"), contents: HARNESS },
        { type: "ESModule", path: join(root, "index.js"), contents: readFileSync(EDGE_BUNDLE, "utf8") },
      ],
      compatibilityDate: WORKER.compatibilityDate,
      durableObjects: { GATES: { className: "InspectedGate", useSQLite: true } },
      // The gate reads a device's legacy history from KV once; these devices have none.
      kvNamespaces: { DEVICES: "devices" },
    });
    await mf.ready;
    const ns = await mf.getDurableObjectNamespace("GATES");
    gate = ns.get(ns.idFromName("wallet:retention")) as unknown as Gate;
  });
  after(async () => {
    await mf?.dispose();
  });

  const request = (claimTtlMs: number, items: AdmitItem[]): AdmitRequest => ({ wallet: "retention", walletLimit: 100, deviceLimit: 100, claimTtlMs, maxEarned: "1000000000", items });
  const admit = (claimTtlMs: number, items: AdmitItem[]) => gate.admit(request(claimTtlMs, items));

  /** Fires the gate's alarm and waits until it has run. */
  async function runAlarm(of: Gate = gate): Promise<Stored> {
    const before = (await of.stored()).alarmsRun;
    await of.alarmNow();
    return waitFor("the gate's alarm", async () => {
      const now = await of.stored();
      return now.alarmsRun > before ? now : undefined;
    });
  }

  it("deletes the expired window, claim and history, keeps the live ones, and then empties itself", async () => {
    // A claim that expires at once, and one that lives an hour.
    const early = await admit(1, [{ vauId: "claim-expiring", deviceId: "idle-device", activeMs: 60_000 }]);
    const live = await admit(HOUR_MS, [{ vauId: "claim-live", deviceId: "busy-device", activeMs: 60_000 }]);
    expect([...early.verdicts, ...live.verdicts].map((v) => v.outcome)).to.deep.equal(["accepted", "accepted"]);
    expect(await gate.stored()).to.deep.include({
      tables: ["claims", "devices", "windows"],
      windows: ["device:busy-device", "device:idle-device", "wallet"],
      claims: ["claim-expiring", "claim-live"],
      devices: ["busy-device", "idle-device"],
    });

    // The idle device's window left the 60 s span and its history the retention; the rest is live.
    await gate.age(PAST_WINDOW_MS, { buckets: ["device:idle-device"] });
    await gate.age(PAST_RETENTION_MS, { devices: ["idle-device"] });
    const swept = await runAlarm();
    expect(swept).to.deep.include({
      tables: ["claims", "devices", "windows"],
      windows: ["device:busy-device", "wallet"],
      claims: ["claim-live"],
      devices: ["busy-device"],
    });
    // The next alarm is due when the first live row is: the windows, a minute after their last slot.
    expect(swept.alarm).to.be.a("number");
    expect(swept.alarm! - Date.now()).to.be.at.most(RATE_WINDOW_MS + 1_000);

    // Everything past due: nothing left to remember, so no tables and no alarm at all.
    await gate.age(PAST_WINDOW_MS, { buckets: ["device:busy-device", "wallet"] });
    await gate.age(HOUR_MS, { claims: ["claim-live"] });
    await gate.age(PAST_RETENTION_MS, { devices: ["busy-device"] });
    expect(await runAlarm()).to.deep.include({ tables: [], windows: [], claims: [], devices: [], alarm: null });

    // An emptied gate starts again from nothing: the claim is new, the device scores as new.
    const again = await admit(HOUR_MS, [{ vauId: "claim-live", deviceId: "busy-device", activeMs: 60_000 }]);
    expect(again.verdicts).to.deep.equal([{ outcome: "accepted", trustScore: 0.1, earned: "1666666" }]);
    expect((await gate.stored()).claims).to.deep.equal(["claim-live"]);
  });

  it("keeps a history still inside the retention and a claim not yet expired", async () => {
    const ns = await mf.getDurableObjectNamespace("GATES");
    const other = ns.get(ns.idFromName("wallet:retention-live")) as unknown as Gate;
    await other.admit({ ...request(HOUR_MS, [{ vauId: "kept", deviceId: "kept-device", activeMs: 1 }]), wallet: "retention-live" });
    // A day short of the retention and a minute short of the claim's expiry: both stay.
    await other.age(HISTORY_RETENTION_MS - 24 * HOUR_MS, { devices: ["kept-device"] });
    await other.age(HOUR_MS - 60_000, { claims: ["kept"] });
    expect(await runAlarm(other)).to.deep.include({ claims: ["kept"], devices: ["kept-device"] });
  });
});
