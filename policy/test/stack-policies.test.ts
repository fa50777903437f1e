import { expect } from "chai";
import { productionAuditBucket } from "../policies/production-audit-bucket";
import { queueProducersHaveConsumers } from "../policies/queue-producers-have-consumers";
import { type RecordedResource, toPolicyResources } from "../offline";
import { ACCOUNT_ID, TYPES, baselineConsumer, baselineWorker, checkStack, resource } from "./harness";

/** A compliant edge stack: the Worker, both queues, the consumer (linked by dependency), the audit bucket. */
function edgeStack(stack = "production"): RecordedResource[] {
  const rewards = resource(TYPES.queue, "rewards", { accountId: ACCOUNT_ID, queueName: `twist-rewards-${stack}` }, stack);
  const dlq = resource(TYPES.queue, "rewards-dlq", { accountId: ACCOUNT_ID, queueName: `twist-rewards-dlq-${stack}` }, stack);
  const worker = resource(TYPES.workersScript, "vau", { ...baselineWorker(), scriptName: `twist-vau-${stack}` }, stack);
  const consumer = resource(TYPES.queueConsumer, "rewards-consumer", { ...baselineConsumer(), deadLetterQueue: `twist-rewards-dlq-${stack}` }, stack, {
    dependencies: [rewards.urn, worker.urn],
  });
  const audit = resource(TYPES.r2Bucket, "audit", { accountId: ACCOUNT_ID, name: "twist-audit-production" }, stack);
  return [rewards, dlq, worker, consumer, audit];
}

const without = (resources: RecordedResource[], name: string) => resources.filter((r) => r.name !== name);

describe("policy: queue-producers-have-consumers (stack)", () => {
  const rule = queueProducersHaveConsumers;

  it("passes when the sent-to queue is consumed and the other one is the dead-letter queue", async () => {
    expect(await checkStack(rule, edgeStack())).to.deep.equal([]);
  });

  it("matches a consumer by queue id or queue name as well as by dependency", async () => {
    const stack = edgeStack();
    const byId = stack.map((r) =>
      r.name === "rewards-consumer" ? { ...r, dependencies: [], inputs: { ...r.inputs, queueId: "q-1" } } : r.name === "rewards" ? { ...r, inputs: { ...r.inputs, queueId: "q-1" } } : r,
    );
    expect(await checkStack(rule, byId)).to.deep.equal([]);
    const byName = stack.map((r) => (r.name === "rewards-consumer" ? { ...r, dependencies: [], inputs: { ...r.inputs, queueName: "twist-rewards-production" } } : r));
    expect(await checkStack(rule, byName)).to.deep.equal([]);
  });

  it("fails a Worker that sends to a queue nobody consumes", async () => {
    expect(await checkStack(rule, without(edgeStack(), "rewards-consumer"))).to.deep.equal([
      'Worker "twist-vau-production" sends to queue twist-rewards-production (binding "REWARDS") but nothing in this stack consumes it. Add a QueueConsumer for it (with maxRetries and a deadLetterQueue), or remove the binding.',
      'Worker "twist-vau-production" sends to queue twist-rewards-dlq-production (binding "REWARDS_DLQ") but nothing in this stack consumes it. Add a QueueConsumer for it (with maxRetries and a deadLetterQueue), or remove the binding.',
    ]);
  });

  it("fails a consumer that reads a different queue", async () => {
    const stack = edgeStack().map((r) => (r.name === "rewards-consumer" ? { ...r, dependencies: [] } : r));
    const messages = await checkStack(rule, stack);
    expect(messages).to.have.length(1);
    expect(messages[0]).to.contain("sends to queue twist-rewards-production");
  });
});

describe("policy: production-audit-bucket (stack)", () => {
  const rule = productionAuditBucket;

  it("passes production with the audit bucket bound to the Worker", async () => {
    expect(await checkStack(rule, edgeStack())).to.deep.equal([]);
  });

  it("fails production without an audit bucket", async () => {
    expect(await checkStack(rule, without(edgeStack(), "audit"))).to.deep.equal([
      'Stack "production" declares no R2 audit bucket. Declare an R2Bucket whose name contains "audit" (private, with a lifecycle rule) and bind it to the edge Worker.',
    ]);
  });

  it("fails production when no Worker writes to the audit bucket", async () => {
    const stack = edgeStack().map((r) => (r.name === "vau" ? { ...r, inputs: { ...r.inputs, bindings: [] } } : r));
    expect(await checkStack(rule, stack)).to.deep.equal([
      "Audit bucket twist-audit-production is declared but no Worker writes to it. Add an r2_bucket binding for it to the edge WorkersScript.",
    ]);
  });

  it("does not apply to staging", async () => {
    expect(await checkStack(rule, without(edgeStack("staging"), "audit"), { stack: "staging" })).to.deep.equal([]);
  });

  it("takes the stack from the URNs when the pack config names none (as under the Pulumi engine)", async () => {
    const reported: string[] = [];
    const run = (stack: string) =>
      rule.policy.validateStack(
        {
          resources: toPolicyResources(without(edgeStack(stack), "audit")),
          stackTags: new Map(),
          getConfig: <T extends object>() => ({}) as T,
          notApplicable: () => {
            throw new Error("n/a");
          },
        },
        (message) => reported.push(message),
      );
    await run("staging");
    expect(reported).to.deep.equal([]);
    await run("production");
    expect(reported).to.have.length(1);
  });
});
