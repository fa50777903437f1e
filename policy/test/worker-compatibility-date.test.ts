import { expect } from "chai";
import { workerCompatibilityDate as rule } from "../policies/worker-compatibility-date";
import { TYPES, baselineWorker, check } from "./harness";

describe("policy: worker-compatibility-date", () => {
  it("passes a Worker with a past compatibility date", async () => {
    expect(await check(rule, TYPES.workersScript, baselineWorker())).to.deep.equal([]);
  });

  it("fails a Worker without a compatibility date", async () => {
    const { compatibilityDate: _unused, ...worker } = baselineWorker();
    expect(await check(rule, TYPES.workersScript, worker)).to.deep.equal([
      'Worker "twist-vau-production" has no compatibilityDate. Set `compatibilityDate` to the date the Worker was tested with (WORKER.compatibilityDate in runtime/edge/bindings.ts).',
    ]);
  });

  it("fails a malformed date", async () => {
    for (const date of ["2025-9-1", "yesterday", "2025-13-45"]) {
      expect((await check(rule, TYPES.workersScript, { ...baselineWorker(), compatibilityDate: date }))[0], date).to.contain("is not a YYYY-MM-DD date");
    }
  });

  it("fails a date in the future", async () => {
    const future = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
    expect((await check(rule, TYPES.workersScript, { ...baselineWorker(), compatibilityDate: future }))[0]).to.contain("is in the future");
  });
});
