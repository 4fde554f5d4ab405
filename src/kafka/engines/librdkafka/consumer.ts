import type { ConsumedRecord, ConsumerHandlers, ConsumerSettings, EngineConsumer, Headers, RecordBatch } from "../../engine";
import type { CommitPoint } from "../../offset-tracker";
import type { NativeConfig } from "./config";
import type { LibrdkafkaClient, NativeConsumer, NativeError, NativeMessage } from "./native";
import { isRefusedLogin, type NativeProblems } from "./problems";

/** Records asked for per consume call: large batches are where librdkafka's speed is. */
const CONSUME_BATCH = 2000;
/** How long one consume call waits for a first record: short, so that a stop is not kept waiting. */
const CONSUME_WAIT_MS = 200;
/**
 * How long the group waits for the next consume call before it takes the partitions
 * away. The loop does not consume while it waits for room (back-pressure): that wait
 * may be long when the flow's output is held up (a broker restarting), so more than
 * librdkafka's 5 minutes.
 */
const MAX_POLL_INTERVAL_MS = 600_000;
const CONNECT_TIMEOUT_MS = 30_000;
const SEEK_TIMEOUT_MS = 5000;
/** After a failure the client retries, how often it is asked whether the brokers answer again. */
const RECOVERY_CHECK_MS = 2000;
/**
 * How often the client asks which topics exist. librdkafka's consumer does not have a
 * missing topic created (kafkajs's does, where the broker allows): it reads the topic
 * once someone creates it and this refresh sees it. Its default, 5 minutes, is too long to wait.
 */
const METADATA_REFRESH_MS = 10_000;

function partitionKey(topic: string, partition: number): string {
  return `${partition}/${topic}`;
}

/**
 * librdkafka matches a subscription as a regular expression only when it starts with
 * "^"; kafkajs matches anywhere in the name: so does this engine.
 */
function subscription(topic: string | RegExp): string | RegExp {
  if (typeof topic === "string" || topic.source.startsWith("^")) return topic;
  return new RegExp(`^.*(?:${topic.source})`, topic.flags);
}

/** Headers as the native client gives them (an object per header, in order), as the nodes take them. */
function headersOf(message: NativeMessage): Headers | undefined {
  if (!message.headers) return undefined;
  const headers: Headers = {};
  for (const header of message.headers) {
    for (const [name, raw] of Object.entries(header)) {
      const value = typeof raw === "string" ? Buffer.from(raw) : raw;
      const before = headers[name];
      headers[name] = before === undefined ? value : [...(Array.isArray(before) ? before : [before]), value];
    }
  }
  return headers;
}

function recordOf(message: NativeMessage): ConsumedRecord {
  const key = message.key;
  return {
    key: key == null ? null : typeof key === "string" ? Buffer.from(key) : key,
    value: message.value,
    headers: headersOf(message),
    offset: String(message.offset),
    timestamp: String(message.timestamp ?? 0),
  };
}

/** The records of one consume call, one batch per partition, each in offset order. */
function byPartition(messages: NativeMessage[]): RecordBatch[] {
  const batches = new Map<string, RecordBatch>();
  for (const message of messages) {
    const key = partitionKey(message.topic, message.partition);
    let batch = batches.get(key);
    if (!batch) {
      batch = { topic: message.topic, partition: message.partition, records: [] };
      batches.set(key, batch);
    }
    batch.records.push(recordOf(message));
  }
  return [...batches.values()];
}

/**
 * A librdkafka consumer (the native API): a loop of large consume calls, each batch
 * handed over per partition; offsets committed only through commit(), in order, unless
 * auto-commit. Partitions come with the group's eager rebalance: all are revoked, then
 * the new set assigned.
 */
export class LibrdkafkaConsumer implements EngineConsumer {
  private readonly consumer: NativeConsumer;
  private readonly owned = new Set<string>();
  /** Bumped at each rebalance: a batch fetched before it may no longer be this consumer's. */
  private generation = 0;
  /** Numbers the consume calls; a partition rewound after a call was made is not handed over from it. */
  private fetches = 0;
  private readonly rewoundAt = new Map<string, number>();
  /** The seeks of a rewind: the next consume call waits for them. */
  private rewinding: Promise<unknown> = Promise.resolve();
  private running = false;
  private stopped = false;
  private loop: Promise<void> = Promise.resolve();
  private recoveryCheck: NodeJS.Timeout | undefined;
  private readonly unknownTopic: number;
  /** The subscription's topics given by name (not by regular expression). */
  private readonly namedTopics: string[];

  constructor(
    client: LibrdkafkaClient,
    base: NativeConfig,
    private readonly settings: ConsumerSettings,
    private readonly handlers: ConsumerHandlers,
    private readonly problems: NativeProblems,
  ) {
    const ASSIGN_PARTITIONS = client.CODES.ERRORS.ERR__ASSIGN_PARTITIONS;
    const REVOKE_PARTITIONS = client.CODES.ERRORS.ERR__REVOKE_PARTITIONS;
    this.consumer = new client.KafkaConsumer(
      {
        ...base,
        "group.id": settings.groupId,
        "enable.auto.commit": settings.autoCommit,
        "enable.auto.offset.store": settings.autoCommit,
        "max.poll.interval.ms": MAX_POLL_INTERVAL_MS,
        "topic.metadata.refresh.interval.ms": METADATA_REFRESH_MS,
        // a topic config object given to the consumer would replace these: they go in the global one
        "auto.offset.reset": settings.fromBeginning ? "earliest" : "latest",
        "isolation.level": settings.readUncommitted ? "read_uncommitted" : "read_committed",
        rebalance_cb: (error: NativeError, partitions: { topic: string; partition: number }[]) => {
          this.generation++;
          try {
            if (error.code === ASSIGN_PARTITIONS) {
              this.consumer.assign(partitions);
              this.owned.clear();
              for (const { topic, partition } of partitions) this.owned.add(partitionKey(topic, partition));
              this.handlers.assigned((topic, partition) => this.owned.has(partitionKey(topic, partition)));
            } else if (error.code === REVOKE_PARTITIONS) {
              this.owned.clear();
              this.consumer.unassign();
            } else {
              this.handlers.failed(error, true);
            }
          } catch (failure) {
            // assign and unassign throw once the client is disconnecting
            if (this.running) this.handlers.failed(failure as Error, true);
          }
        },
      },
      // no topic configuration object: one, even empty, would replace auto.offset.reset above
    );
    const AUTHENTICATION = client.CODES.ERRORS.ERR__AUTHENTICATION;
    this.unknownTopic = client.CODES.ERRORS.ERR_UNKNOWN_TOPIC_OR_PART;
    this.namedTopics = settings.topics.filter((topic) => typeof topic === "string");
    this.consumer.on("event.log", (entry) => {
      const reason = problems.logged(entry);
      // said at once, as on kafkajs: the error event comes only when the connect times out
      if (reason && isRefusedLogin(reason) && !this.stopped) this.handlers.failed(new Error(reason), false);
    });
    this.consumer.on("event.error", (error) => {
      if (!this.running) return;
      const recovering = !error.isFatal && error.code !== AUTHENTICATION;
      this.handlers.failed(problems.explained(error), recovering);
      if (recovering) this.checkRecovery();
    });
    // a token refused by its endpoint: said at once, as a refused login is
    this.consumer.on("error", (error) => {
      const reason = problems.tokenFailed(error);
      if (!this.stopped) this.handlers.failed(new Error(reason), false);
    });
    this.consumer.on("disconnected", () => this.handlers.disconnected());
  }

  async start(): Promise<void> {
    this.handlers.connecting();
    await new Promise<void>((resolve, reject) =>
      this.consumer.connect({ timeout: CONNECT_TIMEOUT_MS }, (error) => (error ? reject(this.problems.explained(error, CONNECT_TIMEOUT_MS)) : resolve())),
    );
    if (this.stopped) {
      // stopped while it connected: a client left connected would outlive its node
      await new Promise<void>((resolve) => this.consumer.disconnect(() => resolve()));
      return;
    }
    // a consume call returns as soon as its first records are in, not once it has many;
    // filling batches, it gathers records for fillWaitMs unless it has CONSUME_BATCH first
    const fillWaitMs = this.settings.fillWaitMs;
    this.consumer.setDefaultConsumeTimeout(fillWaitMs ?? CONSUME_WAIT_MS);
    this.consumer.setDefaultIsTimeoutOnlyForFirstMessage(fillWaitMs === undefined);
    this.consumer.subscribe(this.settings.topics.map(subscription));
    this.running = true;
    this.loop = this.read();
  }

  /**
   * librdkafka reconnects by itself and says nothing when it has: once the brokers answer
   * a metadata request again, and list every topic named in the subscription, the
   * consumer is reading again.
   */
  private checkRecovery(): void {
    if (this.recoveryCheck) return;
    this.recoveryCheck = setInterval(() => {
      this.consumer.getMetadata({ timeout: RECOVERY_CHECK_MS / 2 }, (error, metadata) => {
        if (error || !this.recoveryCheck) return;
        if (!this.namedTopics.every((topic) => metadata.topics.some((listed) => listed.name === topic))) return;
        clearInterval(this.recoveryCheck);
        this.recoveryCheck = undefined;
        if (this.running) this.handlers.recovered();
      });
    }, RECOVERY_CHECK_MS);
  }

  /** The client, for a transaction to send this consumer's offsets with its group metadata. */
  get native(): NativeConsumer {
    return this.consumer;
  }

  private async read(): Promise<void> {
    while (this.running) {
      await this.rewinding;
      const fetch = ++this.fetches;
      let messages: NativeMessage[];
      try {
        messages = await new Promise((resolve, reject) => this.consumer.consume(CONSUME_BATCH, (error, fetched) => (error ? reject(error) : resolve(fetched))));
      } catch (error) {
        if (!this.running) return;
        this.handlers.failed(this.described(error as NativeError), true);
        this.checkRecovery();
        await new Promise((resolve) => setTimeout(resolve, CONSUME_WAIT_MS));
        continue;
      }
      for (const batch of byPartition(messages)) {
        if (!this.running) return;
        await this.hand(batch, fetch);
      }
    }
  }

  /** A subscribed topic that does not exist: named, with what happens next. */
  private described(error: NativeError): Error {
    if (error.code !== this.unknownTopic || this.namedTopics.length === 0) return error;
    return new Error(`${this.namedTopics.join(", ")}: no such topic (yet); read once it is created`);
  }

  /** Hands a batch to the loop; if the loop leaves it early while the partition is still ours, reading goes back to where it stopped. */
  private async hand(batch: RecordBatch, fetch: number): Promise<void> {
    const { topic, partition, records } = batch;
    const key = partitionKey(topic, partition);
    const generation = this.generation;
    const stillValid = (): boolean => this.running && this.generation === generation && this.owned.has(key) && (this.rewoundAt.get(key) ?? 0) < fetch;
    if (!stillValid()) return;
    let handled: string | undefined;
    await this.handlers.batch(batch, { stillValid, heartbeat: async () => undefined, handled: (offset) => (handled = offset) });
    const last = records[records.length - 1].offset;
    if (handled === last || !stillValid()) return;
    const next = handled === undefined ? Number(records[0].offset) : Number(handled) + 1;
    await new Promise<void>((resolve) => this.consumer.seek({ topic, partition, offset: next }, 0, () => resolve()));
  }

  commit(points: CommitPoint[]): Promise<void> {
    return new Promise((resolve, reject) =>
      this.consumer.commitCb(
        points.map(({ topic, partition, offset }) => ({ topic, partition, offset: Number(offset) })),
        (error) => (error ? reject(error) : resolve()),
      ),
    );
  }

  rewind(points: CommitPoint[]): void {
    const seeks = points.map(({ topic, partition, offset }) => {
      this.rewoundAt.set(partitionKey(topic, partition), this.fetches);
      // with a timeout the seek is done (and what was fetched from the old position dropped) when it calls back
      return new Promise<void>((resolve) => this.consumer.seek({ topic, partition, offset: Number(offset) }, SEEK_TIMEOUT_MS, () => resolve()));
    });
    this.rewinding = Promise.all([this.rewinding, ...seeks]);
  }

  pause(topic: string, partition: number): void {
    this.consumer.pause([{ topic, partition }]);
  }

  resume(topic: string, partition: number): void {
    this.consumer.resume([{ topic, partition }]);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.stopped = true;
    clearInterval(this.recoveryCheck);
    this.recoveryCheck = undefined;
    await this.loop;
    if (!this.consumer.isConnected()) return;
    await new Promise<void>((resolve) => this.consumer.disconnect(() => resolve()));
  }
}
