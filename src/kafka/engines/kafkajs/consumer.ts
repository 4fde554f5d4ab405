import type { Consumer, Kafka } from "kafkajs";
import type { ConsumerHandlers, ConsumerSettings, EngineConsumer } from "../../engine";
import type { CommitPoint } from "../../offset-tracker";

/** A topic auto-created by the first subscription is unknown for a moment (Kafka 4 answers UNKNOWN_TOPIC_OR_PARTITION). */
const SUBSCRIBE_ATTEMPTS = 10;
const SUBSCRIBE_RETRY_MS = 500;

/** Bytes a fetch filling batches waits for (a few hundred small records), unless its wait ends first. */
const FILL_MIN_BYTES = 64 * 1024;

/** A kafkajs consumer in the shape the consumer loop drives: one eachBatch call per fetched batch. */
export class KafkajsConsumer implements EngineConsumer {
  private readonly consumer: Consumer;
  private stopping = false;

  constructor(
    kafka: Kafka,
    private readonly settings: ConsumerSettings,
    private readonly handlers: ConsumerHandlers,
    /** Words an error as the nodes show it. */
    private readonly explain: (error: Error) => Error = (error) => error,
  ) {
    // how long the broker holds a fetch while there is nothing new (kafkajs's default is
    // 5 s): short, so that a stop or a rebalance does not wait for an idle fetch
    // filling batches, the broker holds a fetch for fillWaitMs unless a batch's worth of bytes comes first
    const filling = settings.fillWaitMs === undefined ? {} : { maxWaitTimeInMs: settings.fillWaitMs, minBytes: FILL_MIN_BYTES };
    this.consumer = kafka.consumer({ groupId: settings.groupId, allowAutoTopicCreation: true, maxWaitTimeInMs: 200, readUncommitted: Boolean(settings.readUncommitted), ...filling });
    const { CONNECT, GROUP_JOIN, CRASH, DISCONNECT } = this.consumer.events;
    this.consumer.on(CONNECT, () => handlers.connecting());
    // kafkajs joins the group again after a failure it recovers from: that join says it reads again
    this.consumer.on(GROUP_JOIN, ({ payload }) => {
      const assigned = payload.memberAssignment;
      handlers.assigned((topic, partition) => (assigned[topic] ?? []).includes(partition));
    });
    this.consumer.on(CRASH, ({ payload }) => {
      // kafkajs restarts by itself after a retriable error (a coordinator still loading, a
      // broker restart); after any other it has left the group for good
      if (!this.stopping) handlers.failed(this.explain(payload.error), payload.restart);
    });
    this.consumer.on(DISCONNECT, () => handlers.disconnected());
  }

  async start(): Promise<void> {
    try {
      await this.consumer.connect();
      await this.subscribe();
    } catch (error) {
      throw this.explain(error as Error);
    }
    await this.consumer.run({
      autoCommit: this.settings.autoCommit,
      // offsets are resolved as the loop hands them over: a batch left early (stop, rebalance) is not skipped
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        let handled: string | undefined;
        try {
          await this.handlers.batch(
            { topic: batch.topic, partition: batch.partition, records: batch.messages },
            { stillValid: () => isRunning() && !isStale(), heartbeat, handled: (offset) => (handled = offset) },
          );
        } finally {
          if (handled !== undefined) resolveOffset(handled);
        }
      },
    });
  }

  /** Subscribes, waiting a moment for a topic the broker is still creating (on first use). */
  private async subscribe(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.consumer.subscribe({ topics: this.settings.topics, fromBeginning: this.settings.fromBeginning });
        return;
      } catch (error) {
        if ((error as { type?: string }).type !== "UNKNOWN_TOPIC_OR_PARTITION" || attempt >= SUBSCRIBE_ATTEMPTS || this.stopping) throw error;
        this.handlers.failed(this.explain(error as Error), true);
        await new Promise((resolve) => setTimeout(resolve, SUBSCRIBE_RETRY_MS));
      }
    }
  }

  commit(points: CommitPoint[]): Promise<void> {
    return this.consumer.commitOffsets(points);
  }

  rewind(points: CommitPoint[]): void {
    for (const { topic, partition, offset } of points) this.consumer.seek({ topic, partition, offset });
  }

  pause(topic: string, partition: number): void {
    this.consumer.pause([{ topic, partitions: [partition] }]);
  }

  resume(topic: string, partition: number): void {
    this.consumer.resume([{ topic, partitions: [partition] }]);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.consumer.disconnect();
  }
}
