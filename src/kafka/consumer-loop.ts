import type { KafkaConnection } from "./connection";
import type { BatchControl, ConsumedRecord, EngineConsumer, RecordBatch } from "./engine";
import { DeadLetterWriter } from "./dead-letters";
import { OffsetTracker } from "./offset-tracker";
import { ProducerStoppedError } from "./produce-errors";
import { RetryBackoff } from "./retry-backoff";
import { decodeRecord, reportedRecord, type DecodeFormats, type RecordDecodeError, type RecordMessage } from "./record-codec";
import { RegistryUnavailableError } from "./schema-registry/registry-client";
import type { SchemaDecoder } from "./schema-registry/serdes";
import { registerSettler, type Failure, type SettleOutcome, type SettlementHandle } from "./settlement";

const FIRST_RESTART_DELAY_MS = 5000;
const MAX_RESTART_DELAY_MS = 60_000;
/** How often a consumer waiting for room sends a heartbeat and checks it is still wanted. */
const WAIT_CHECK_MS = 1000;
/**
 * Shares of maxUnsettled: settled records that make a commit go out before the timer,
 * and uncommitted records at which a full consumer reads again. A commit every quarter
 * keeps a fast flow from reaching the bound; resuming at three quarters keeps the
 * consumer reading while the next commit is on its way (at one half each, kafka-in ->
 * kafka-out ran about 15% slower in `npm run bench -- kafka`).
 */
const COMMIT_AT_SHARE = 0.25;
const RESUME_AT_SHARE = 0.75;
/** How long the consumer reads without waiting before its status leaves "paused". */
const PAUSED_STATUS_HOLD_MS = 1000;

export type DeliveryMode = "at-least-once" | "auto-commit";

/**
 * What becomes of a record that can be written neither where the flow sends it nor to
 * the dead-letter topic (the broker refuses it for good: too large, topic missing, not
 * allowed):
 * - stop: its partition stops there, visibly; nothing after it is committed, so nothing
 *   is lost, and it is read again after a redeploy or restart (once the cause is fixed);
 * - skip: it is settled (committed past) and logged with its topic, partition and offset.
 * With auto-commit, offsets are committed as read, so it is always skip.
 */
export type RefusalPolicy = "stop" | "skip";

/** A record that could not be written anywhere, and what was done about it. */
export interface Refusal {
  topic: string;
  partition: number;
  offset: string;
  /** The broker's reason, or the kafka-out failure that made the record undeliverable. */
  reason: string;
  /** Set when it was the dead-letter topic that refused it. */
  deadLetterTopic?: string;
  action: "stopped" | "skipped";
  /** The record as this consumer emitted it (a large payload cut short), when it was kept for the dead-letter topic. */
  msg?: RecordMessage;
}

export interface ConsumerLoopOptions {
  /** Names this consumer in settlement handles; unique per running consumer. */
  source: string;
  /** Topic names, or regular expressions matching topic names. */
  topics: (string | RegExp)[];
  groupId: string;
  fromBeginning: boolean;
  formats: DecodeFormats;
  deliveryMode: DeliveryMode;
  /**
   * Records read and not yet committed (unsettled, or settled and waiting for the next
   * commit) beyond which fetching pauses: it bounds memory and the duplicates after a crash.
   */
  maxUnsettled: number;
  commitIntervalMs: number;
  /** Where failed records go; blank for none. */
  deadLetterTopic: string;
  refusalPolicy: RefusalPolicy;
  /** Read records of open and aborted transactions too (isolation level read_uncommitted). */
  readUncommitted?: boolean;
  /** Values or keys in a Schema Registry's wire format: the schemas of a batch are fetched before its records are emitted. */
  schemas?: SchemaDecoder;
}

export type ConsumerState = "connecting" | "connected" | "paused" | "disconnected" | "error";

export interface StateDetail {
  /** Records read and not yet committed. */
  inFlight?: number;
  /** A failure the node should report. */
  error?: Error;
  /** Why the consumer is still connecting: an error the client retries. */
  reason?: string;
}

export interface ConsumerLoopEvents {
  onRecord: (msg: RecordMessage, error?: RecordDecodeError) => void;
  onState: (state: ConsumerState, detail?: StateDetail) => void;
  onRefused: (refusal: Refusal) => void;
  /** A dead letter could not be written and is being retried (with the failure), or is written again (undefined). */
  onDeadLetterRetry: (error: Error | undefined) => void;
  /** The schema registry did not answer and records wait for it (with the failure), or it answers again (undefined). */
  onRegistryWait?: (error: Error | undefined) => void;
  /** The client retried after a failure (a connection reset, a request timed out) while the consumer kept its partitions. */
  onConnectionTrouble?: (error: string) => void;
}

/**
 * Reads records, emits one msg each, and (in at-least-once mode) commits each
 * partition only up to its highest contiguous settled offset. At most maxUnsettled
 * records are read and not yet committed: at that count reading waits until a quarter
 * of them are committed. Commits run every commitIntervalMs, and sooner when settled
 * records pile up, so that the bound does not throttle a fast flow.
 */
export class ConsumerLoop {
  /** Records settled as failed (reported to Catch), dead-lettered or not, since start. */
  failed = 0;
  /** Of those, the ones written to the dead-letter topic. */
  deadLettered = 0;
  /** Partitions held at a record that could not be written anywhere, by "partition/topic". */
  readonly stopped = new Map<string, Refusal>();
  private readonly tracker = new OffsetTracker();
  private consumer: EngineConsumer | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private restartDelayMs = FIRST_RESTART_DELAY_MS;
  private readonly unregister: () => void;
  private readonly deadLetters: DeadLetterWriter | undefined;
  /** The records in flight as read, kept (only with a dead-letter topic) to be written there byte for byte. */
  private readonly originals = new Map<string, { topic: string; partition: number; record: ConsumedRecord }>();
  private commitTimer: NodeJS.Timeout | undefined;
  private committing: Promise<void> = Promise.resolve();
  /** The loop is waiting for room: every settle then asks for a commit. */
  private waiting = false;
  /** The status says paused; it stays so until the consumer has read without waiting for a while. */
  private showingPaused = false;
  private waitEndedAt = 0;
  /** Ends the back-pressure wait early, when a commit made room. */
  private wakeWaiter: (() => void) | undefined;
  private commitQueued = false;
  private stopping = false;
  private joined = false;

  constructor(
    private readonly connection: KafkaConnection,
    private readonly options: ConsumerLoopOptions,
    private readonly events: ConsumerLoopEvents,
  ) {
    this.deadLetters = options.deadLetterTopic
      ? new DeadLetterWriter(connection, options.deadLetterTopic, {
          retrying: (error) => this.events.onDeadLetterRetry(error),
          recovered: () => this.events.onDeadLetterRetry(undefined),
        })
      : undefined;
    const settlerRegistration = registerSettler(options.source, (handle, outcome, failure) => this.settle(handle, outcome, failure));
    // until it has joined its group, a retried error tells why the consumer is still connecting
    const retriedErrors = connection.engine.onRetriedError((error) => {
      if (!this.joined) this.events.onState("connecting", { reason: error });
      else this.events.onConnectionTrouble?.(error);
    });
    this.unregister = () => {
      settlerRegistration();
      retriedErrors();
    };
  }

  /** A consumer wired to this loop; a new one after a failure its engine does not recover from. */
  private createConsumer(): EngineConsumer {
    const consumer: EngineConsumer = this.connection.engine.consumer(
      {
        groupId: this.options.groupId,
        topics: this.options.topics,
        fromBeginning: this.options.fromBeginning,
        autoCommit: this.options.deliveryMode === "auto-commit",
        readUncommitted: this.options.readUncommitted,
      },
      {
        connecting: () => this.events.onState("connecting"),
        assigned: (owned) => this.assigned(consumer, owned),
        batch: (batch, control) => this.emit(batch, control),
        failed: (error, recovering) => {
          if (this.stopping || this.consumer !== consumer) return;
          this.joined = false;
          if (recovering) {
            this.events.onState("connecting", { reason: error.message });
            return;
          }
          this.events.onState("error", { error });
          this.restartLater();
        },
        recovered: () => {
          this.joined = true;
          this.events.onState(this.showingPaused ? "paused" : "connected", { inFlight: this.tracker.uncommitted });
        },
        // a failed consumer disconnects as it is left: its error stays shown until the restart
        disconnected: () => {
          if (this.consumer === consumer) this.events.onState("disconnected");
        },
      },
    );
    return consumer;
  }

  /** The group gave this consumer its partitions: what it no longer owns is its next owner's to read. */
  private assigned(consumer: EngineConsumer, owned: (topic: string, partition: number) => boolean): void {
    this.joined = true;
    this.restartDelayMs = FIRST_RESTART_DELAY_MS;
    this.tracker.forget(owned);
    for (const [key, original] of this.originals) if (!owned(original.topic, original.partition)) this.originals.delete(key);
    for (const [key, { topic, partition }] of this.stopped) {
      if (owned(topic, partition)) continue;
      // its next owner reads the record again; were it assigned back, it must not come back paused
      consumer.resume(topic, partition);
      this.stopped.delete(key);
    }
    this.events.onState(this.showingPaused ? "paused" : "connected", { inFlight: this.tracker.uncommitted });
  }

  /** Emits a fetched batch's records, one msg each, waiting for room when maxUnsettled are in flight. */
  private async emit(batch: RecordBatch, control: BatchControl): Promise<void> {
    const { topic, partition } = batch;
    // a stop, a rebalance or a stopped partition can only come while this loop awaits: checked then, not per record
    if (!control.stillValid() || this.tracker.isStopped(topic, partition)) return;
    if (this.options.schemas && !(await this.fetchSchemas(this.options.schemas, batch, control))) return;
    for (const record of batch.records) {
      // back-pressure waits here rather than pausing the consumer: a pause drops the
      // batch the client already fetched, and fetching it again caps throughput
      if (this.atLeastOnce && this.tracker.uncommitted >= this.options.maxUnsettled) {
        if (!(await this.roomFor(control)) || this.tracker.isStopped(topic, partition)) return;
      }
      control.handled(record.offset);
      if (!this.tracker.track(topic, partition, record.offset)) continue; // fetched again while in flight
      if (this.deadLetters) this.originals.set(recordKey(topic, partition, record.offset), { topic, partition, record });
      const { msg, error } = decodeRecord(topic, partition, record, this.options.formats, this.options.source, this.options.schemas);
      this.events.onRecord(msg, error);
    }
  }

  /**
   * Fetches the schemas of a batch's records that are not known yet. While the registry
   * does not answer, the batch waits (1 s, then twice as long up to 30 s), so that good
   * records are not failed for it; false if the batch is no longer to be emitted.
   */
  private async fetchSchemas(schemas: SchemaDecoder, batch: RecordBatch, control: BatchControl): Promise<boolean> {
    const backoff = new RetryBackoff({ retrying: (error) => this.events.onRegistryWait?.(error), recovered: () => this.events.onRegistryWait?.(undefined) });
    for (;;) {
      try {
        const values = batch.records.map((record) => record.value ?? null);
        const keys = this.options.formats.registryKeys ? batch.records.map((record) => record.key ?? null) : [];
        await schemas.prepare(this.options.formats.payload === "schema-registry" ? [...values, ...keys] : keys);
        backoff.succeeded();
        return true;
      } catch (error) {
        if (!(error instanceof RegistryUnavailableError)) throw error;
        await backoff.wait(error);
      }
      await control.heartbeat();
      if (this.stopping || !control.stillValid()) return false;
    }
  }

  /**
   * Starts reading. A failure to start, or one the engine does not recover from, is
   * reported through onState and retried with a growing delay until stop().
   */
  start(): void {
    this.run().catch((error: Error) => {
      if (this.stopping) return;
      this.events.onState("error", { error });
      this.restartLater();
    });
  }

  private restartLater(): void {
    if (this.stopping) return;
    const delay = this.restartDelayMs;
    this.restartDelayMs = Math.min(MAX_RESTART_DELAY_MS, delay * 2);
    // what the failed consumer read but did not commit is read again by the next one
    const failed = this.consumer;
    this.consumer = undefined;
    this.tracker.forget(() => false);
    this.originals.clear();
    this.stopped.clear();
    this.showingPaused = false;
    this.restartTimer = setTimeout(() => {
      void (failed?.stop() ?? Promise.resolve()).catch(() => undefined).then(() => this.start());
    }, delay);
  }

  private async run(): Promise<void> {
    this.events.onState("connecting");
    const consumer = this.createConsumer();
    this.consumer = consumer;
    try {
      await consumer.start();
    } catch (error) {
      // a failure reported while it started has already put a new start in hand
      if (this.consumer !== consumer) return;
      throw error;
    }
    if (this.options.deliveryMode !== "auto-commit" && !this.commitTimer) {
      this.commitTimer = setInterval(() => {
        this.clearPausedWhenReading();
        void this.commit();
      }, this.options.commitIntervalMs);
    }
  }

  /** Commits what is settled, then leaves the group. Unsettled records will be read again. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeWaiter?.();
    clearInterval(this.commitTimer);
    clearTimeout(this.restartTimer);
    this.unregister();
    this.deadLetters?.stop();
    await this.commit();
    await this.consumer?.stop();
  }

  private settle(handle: SettlementHandle, outcome: SettleOutcome, failure?: Failure): void {
    if (outcome === "processed") {
      this.markSettled(handle, this.deadLetters && recordKey(handle.topic, handle.partition, handle.offset));
      return;
    }
    // a record of an earlier assignment is its next owner's to read again
    if (!this.tracker.isUnsettled(handle.topic, handle.partition, handle.offset)) return;
    this.failed++;
    const key = recordKey(handle.topic, handle.partition, handle.offset);
    const original = this.originals.get(key);
    if (!this.deadLetters || !original) {
      // failed: reported to Catch, which counts as dealt with; undelivered: written nowhere
      if (outcome === "failed") this.markSettled(handle, key);
      else this.refuse(handle, failure?.error ?? "not written");
      return;
    }
    const deadLetterTopic = this.deadLetters.topic;
    this.deadLetters.write(original.record, handle, failure).then(
      () => {
        this.deadLettered++;
        this.markSettled(handle, key);
      },
      (error: Error) => {
        // stopping: left unsettled, so it is read again
        if (!(error instanceof ProducerStoppedError)) this.refuse(handle, error.message, { deadLetterTopic, record: original.record });
      },
    );
  }

  /** A record that could not be written anywhere: its partition stops there, or it is skipped (RefusalPolicy). */
  private refuse(handle: SettlementHandle, reason: string, deadLetter?: { deadLetterTopic: string; record: ConsumedRecord }): void {
    const { topic, partition, offset } = handle;
    // from an earlier assignment, or held already by a stop: it is read again either way
    if (!this.tracker.isUnsettled(topic, partition, offset)) return;
    const key = recordKey(topic, partition, offset);
    const stop = this.options.refusalPolicy === "stop" && this.atLeastOnce;
    const refusal: Refusal = {
      topic,
      partition,
      offset,
      reason,
      deadLetterTopic: deadLetter?.deadLetterTopic,
      action: stop ? "stopped" : "skipped",
      msg: deadLetter && reportedRecord(topic, partition, deadLetter.record, this.options.formats, this.options.source),
    };
    if (stop) {
      this.originals.delete(key);
      this.tracker.stop(topic, partition);
      this.consumer?.pause(topic, partition);
      const partitionKey = `${partition}/${topic}`;
      const first = this.stopped.get(partitionKey);
      if (!first || BigInt(offset) < BigInt(first.offset)) this.stopped.set(partitionKey, refusal);
      // its records no longer count as in flight: a consumer waiting for room may read on
      if (this.waiting && this.tracker.uncommitted <= this.resumeAt) this.wakeWaiter?.();
    } else {
      this.markSettled(handle, key);
    }
    this.events.onRefused(refusal);
  }

  /** `key` names the original kept for the dead-letter topic, which is then no longer needed. */
  private markSettled(handle: SettlementHandle, key?: string): void {
    if (key) this.originals.delete(key);
    if (!this.tracker.settle(handle.topic, handle.partition, handle.offset)) return;
    if (this.waiting || this.tracker.settledUncommitted >= this.options.maxUnsettled * COMMIT_AT_SHARE) this.commitSoon();
  }

  private get atLeastOnce(): boolean {
    return this.options.deliveryMode === "at-least-once";
  }

  /** One commit queued behind the running one serves every settle that asks meanwhile. */
  private commitSoon(): void {
    if (this.commitQueued) return;
    this.commitQueued = true;
    void this.commit();
  }

  /** Uncommitted records at which a full consumer reads again. */
  private get resumeAt(): number {
    return this.options.maxUnsettled * RESUME_AT_SHARE;
  }

  /**
   * Called with maxUnsettled records uncommitted: commits at once and waits until a
   * commit makes room, keeping the group membership alive with heartbeats. Resolves
   * true to go on reading, false if the batch should be left (stop, rebalance).
   */
  private async roomFor(control: BatchControl): Promise<boolean> {
    this.waiting = true;
    this.showPaused(true);
    this.commitSoon();
    try {
      while (this.tracker.uncommitted > this.resumeAt) {
        if (this.stopping || !control.stillValid()) return false;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(wake, WAIT_CHECK_MS);
          function wake(): void {
            clearTimeout(timer);
            resolve();
          }
          this.wakeWaiter = wake;
        });
        this.wakeWaiter = undefined;
        await control.heartbeat(); // a rebalance shows here as an error, which the engine handles
      }
    } finally {
      this.waiting = false;
      this.waitEndedAt = Date.now();
    }
    return !this.stopping && control.stillValid();
  }

  /**
   * Back to "connected" once the consumer has read for a while without waiting: a fast
   * flow waits briefly and often, and a status per wait would cost more than the wait.
   */
  private clearPausedWhenReading(): void {
    if (this.showingPaused && !this.waiting && Date.now() - this.waitEndedAt >= PAUSED_STATUS_HOLD_MS) this.showPaused(false);
  }

  private showPaused(paused: boolean): void {
    if (this.showingPaused === paused) return;
    this.showingPaused = paused;
    this.events.onState(paused ? "paused" : "connected", { inFlight: this.tracker.uncommitted });
  }

  /** Commits are chained so that two never race and an older one never lands last. */
  private commit(): Promise<void> {
    if (this.options.deliveryMode === "auto-commit") return this.committing;
    this.committing = this.committing.then(async () => {
      this.commitQueued = false;
      const points = this.tracker.pendingCommits();
      const consumer = this.consumer;
      if (points.length === 0 || !consumer) return;
      try {
        await consumer.commit(points);
        this.tracker.markCommitted(points);
        if (this.waiting && this.tracker.uncommitted <= this.resumeAt) this.wakeWaiter?.();
      } catch (error) {
        // not fatal: the next tick retries, and a record that is not committed is only read again
        this.events.onState(this.showingPaused ? "paused" : "connected", { error: error as Error, inFlight: this.tracker.uncommitted });
      }
    });
    return this.committing;
  }
}

function recordKey(topic: string, partition: number, offset: string): string {
  return `${partition}/${offset}/${topic}`;
}
