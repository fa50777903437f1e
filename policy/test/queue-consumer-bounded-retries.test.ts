import { expect } from "chai";
import { queueConsumerBoundedRetries as rule } from "../policies/queue-consumer-bounded-retries";
import { TYPES, baselineConsumer, check } from "./harness";

describe("policy: queue-consumer-bounded-retries", () => {
  it("passes a consumer with explicit retries and a dead-letter queue", async () => {
    expect(await check(rule, TYPES.queueConsumer, baselineConsumer())).to.deep.equal([]);
  });

  it("fails a consumer that leaves maxRetries to the default", async () => {
    expect(await check(rule, TYPES.queueConsumer, { ...baselineConsumer(), settings: { batchSize: 50 } })).to.deep.equal([
      'Queue consumer "twist-vau-production" does not set settings.maxRetries. Set it explicitly (e.g. 5) so the retry budget is a reviewed decision.',
    ]);
  });

  it("fails too many retries, with the limit configurable", async () => {
    const consumer = { ...baselineConsumer(), settings: { maxRetries: 50 } };
    expect((await check(rule, TYPES.queueConsumer, consumer))[0]).to.contain("retries up to 50 times, more than the allowed 10");
    expect(await check(rule, TYPES.queueConsumer, consumer, { config: { "queue-consumer-bounded-retries": { maxRetries: 100 } } })).to.deep.equal([]);
  });

  it("fails a consumer without a dead-letter queue", async () => {
    const { deadLetterQueue: _unused, ...consumer } = baselineConsumer();
    expect(await check(rule, TYPES.queueConsumer, consumer)).to.deep.equal([
      'Queue consumer "twist-vau-production" has no deadLetterQueue, so messages that exhaust their retries are dropped. Set `deadLetterQueue` to the name of a dead-letter queue declared in the stack.',
    ]);
  });

  it("reports both problems of one consumer", async () => {
    expect(await check(rule, TYPES.queueConsumer, { accountId: "a", queueId: "q", type: "worker", scriptName: "s" })).to.have.length(2);
  });
});
