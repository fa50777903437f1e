import { expect } from "chai";
import { workerDurableObjectMigrations as rule } from "../policies/worker-durable-object-migrations";
import { TYPES, baselineWorker, check } from "./harness";

type Binding = { type: string; name: string; className?: string; scriptName?: string };
const doBinding = (name: string, className?: string, scriptName?: string): Binding => ({
  type: "durable_object_namespace",
  name,
  ...(className ? { className } : {}),
  ...(scriptName ? { scriptName } : {}),
});

function workerWith(extra: Binding[], migrations?: unknown) {
  const worker = baselineWorker();
  worker.bindings = [...(worker.bindings as Binding[]), ...extra];
  if (migrations !== undefined) worker.migrations = migrations;
  return worker;
}

describe("policy: worker-durable-object-migrations", () => {
  it("passes when every bound class is created with newSqliteClasses", async () => {
    expect(await check(rule, TYPES.workersScript, baselineWorker())).to.deep.equal([]);
  });

  it("follows migration steps: renamed and transferred classes count, deleted ones do not", async () => {
    const migrations = { newTag: "v3", steps: [{ newSqliteClasses: ["RateLimiter", "Old", "VauDedupe"] }, { renamedClasses: [{ from: "Old", to: "HourlyAggregator" }] }] };
    expect(await check(rule, TYPES.workersScript, workerWith([doBinding("AGGREGATOR", "HourlyAggregator")], migrations))).to.deep.equal([]);
  });

  it("ignores a binding to another script's class", async () => {
    expect(await check(rule, TYPES.workersScript, workerWith([doBinding("REMOTE", "Elsewhere", "twist-other")]))).to.deep.equal([]);
  });

  it("fails a bound class that no migration creates", async () => {
    expect(await check(rule, TYPES.workersScript, workerWith([doBinding("AGGREGATOR", "HourlyAggregator")]))).to.deep.equal([
      'Worker "twist-vau-production" binds Durable Object class HourlyAggregator ("AGGREGATOR") but no migration creates it. Add it to `migrations.newSqliteClasses` with a new migration tag.',
    ]);
  });

  it("passes a script sent no migrations: it is at its last tag, and its classes are not in the inputs", async () => {
    const { migrations: _unused, ...worker } = baselineWorker();
    expect(await check(rule, TYPES.workersScript, worker)).to.deep.equal([]);
  });

  it("passes pending steps after the live tag that leave every bound class in place", async () => {
    const migrations = { oldTag: "v1", newTag: "v2", steps: [{ newSqliteClasses: ["Extra"] }] };
    expect(await check(rule, TYPES.workersScript, workerWith([], migrations))).to.deep.equal([]);
  });

  it("fails pending steps after the live tag that delete a bound class", async () => {
    const migrations = { oldTag: "v1", newTag: "v2", steps: [{ deletedClasses: ["VauDedupe"] }] };
    expect(await check(rule, TYPES.workersScript, workerWith([], migrations))).to.deep.equal([
      'Worker "twist-vau-production" binds Durable Object class VauDedupe ("DEDUPE") but the pending migration steps after tag v1 delete or rename it. Bind the class that replaces it, or drop the binding.',
    ]);
  });

  it("fails a class deleted by a later step", async () => {
    const migrations = { steps: [{ newSqliteClasses: ["RateLimiter", "VauDedupe"] }, { deletedClasses: ["VauDedupe"] }] };
    expect((await check(rule, TYPES.workersScript, workerWith([], migrations)))[0]).to.contain("binds Durable Object class VauDedupe");
  });

  it("fails a key-value backed class (newClasses), which the Free plan does not allow", async () => {
    const migrations = { newTag: "v1", newSqliteClasses: ["RateLimiter"], newClasses: ["VauDedupe"] };
    expect(await check(rule, TYPES.workersScript, workerWith([], migrations))).to.deep.equal([
      'Worker "twist-vau-production" creates Durable Object class VauDedupe with `newClasses` (key-value storage), which the Free plan does not allow. Declare it in `newSqliteClasses` instead.',
    ]);
  });

  it("fails a Durable Object binding without a className", async () => {
    expect((await check(rule, TYPES.workersScript, workerWith([doBinding("BROKEN")])))[0]).to.contain('binding "BROKEN" is a Durable Object namespace without a className');
  });
});
