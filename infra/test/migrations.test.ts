import { expect } from "chai";
import type { DurableObjectMigrationDecl } from "../../runtime/edge/bindings";
import * as decl from "../../runtime/edge/bindings";
import { UnknownMigrationTagError, pendingMigrations } from "../components/worker-migrations";
import { evaluateProgram } from "../offline/evaluate";
import { T, only } from "./helpers";

// A ledger with renamed and deleted steps, like the ones the edge appends (a per-wallet class
// replacing older ones): pendingMigrations must send any step shape, not just new classes.
const LEDGER: DurableObjectMigrationDecl[] = [
  { tag: "v1", newSqliteClasses: ["RateLimiter", "VauDedupe", "HourlyAggregator"] },
  { tag: "v2", newSqliteClasses: ["WalletState"], renamedClasses: [{ from: "HourlyAggregator", to: "Aggregator" }] },
  { tag: "v3", deletedClasses: ["RateLimiter", "VauDedupe"] },
];
const SCRIPT = "twist-vau-staging";

describe("Durable Object migrations against the live script", () => {
  it("a new script gets every step from scratch (no oldTag)", () => {
    expect(pendingMigrations(SCRIPT, LEDGER, undefined)).to.deep.equal({
      newTag: "v3",
      steps: [
        { newSqliteClasses: ["RateLimiter", "VauDedupe", "HourlyAggregator"] },
        { newSqliteClasses: ["WalletState"], renamedClasses: [{ from: "HourlyAggregator", to: "Aggregator" }] },
        { deletedClasses: ["RateLimiter", "VauDedupe"] },
      ],
    });
  });

  it("a script at the last tag gets nothing, so the second `pulumi up` re-applies nothing", () => {
    expect(pendingMigrations(SCRIPT, LEDGER, "v3")).to.equal(undefined);
  });

  it("a script one tag behind gets only the last step, from its live tag", () => {
    expect(pendingMigrations(SCRIPT, LEDGER, "v2")).to.deep.equal({ oldTag: "v2", newTag: "v3", steps: [{ deletedClasses: ["RateLimiter", "VauDedupe"] }] });
  });

  it("a script two tags behind gets the two pending steps in order", () => {
    const m = pendingMigrations(SCRIPT, LEDGER, "v1")!;
    expect(m.oldTag).to.equal("v1");
    expect(m.newTag).to.equal("v3");
    expect(m.steps).to.deep.equal(LEDGER.slice(1).map(({ tag: _t, ...step }) => step));
  });

  it("an unknown live tag fails naming the tag and the script", () => {
    expect(() => pendingMigrations(SCRIPT, LEDGER, "v9")).to.throw(UnknownMigrationTagError, /twist-vau-staging is at Durable Object migration tag "v9".*declared: v1, v2, v3/);
  });

  it("an empty ledger sends nothing", () => {
    expect(pendingMigrations(SCRIPT, [], undefined)).to.equal(undefined);
  });

  describe("in the program, with the live tag read from the (doubled) Cloudflare API", function () {
    // One program evaluation per test, each CPU-bound (17 s apiece on a loaded run), bounded as infra's other evaluations are.
    this.timeout(120_000);
    const last = decl.migrations[decl.migrations.length - 1]!.tag;

    it("sends no migrations when the deployed script is at the last declared tag", async () => {
      const ev = await evaluateProgram({ stack: "staging", live: { workerMigrationTags: { [SCRIPT]: last } } });
      expect(only(ev.resources, T.script, "worker").inputs.migrations).to.equal(undefined);
    });

    it("sends the steps after the live tag when the script is behind", async () => {
      if (decl.migrations.length < 2) {
        // Only one step declared: the script that exists without a tag (deployed before any
        // Durable Object) gets that step from scratch.
        const ev = await evaluateProgram({ stack: "staging", live: { workerMigrationTags: { [SCRIPT]: "" } } });
        expect(only(ev.resources, T.script, "worker").inputs.migrations).to.deep.include({ newTag: last });
        return;
      }
      const behind = decl.migrations[decl.migrations.length - 2]!.tag;
      const ev = await evaluateProgram({ stack: "staging", live: { workerMigrationTags: { [SCRIPT]: behind } } });
      expect(only(ev.resources, T.script, "worker").inputs.migrations).to.deep.include({ oldTag: behind, newTag: last });
    });

    it("fails the run naming an unknown live tag", async () => {
      let error: Error | undefined;
      await evaluateProgram({ stack: "staging", live: { workerMigrationTags: { [SCRIPT]: "v0-from-elsewhere" } } }).catch((e: Error) => (error = e));
      expect(error?.message).to.match(/twist-vau-staging is at Durable Object migration tag "v0-from-elsewhere"/);
    });

    it("reads the tag of this stack's script only", async () => {
      const other = await evaluateProgram({ stack: "staging", live: { workerMigrationTags: { "twist-vau-production": last } } });
      expect(only(other.resources, T.script, "worker").inputs.migrations).to.deep.include({ newTag: last });
    });
  });
});
