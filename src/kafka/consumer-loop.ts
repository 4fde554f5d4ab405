import type { KafkaConnection } from "./connection";
import type { BatchControl, ConsumedRecord, EngineConsumer, OutgoingRecord, RecordBatch } from "./engine";
import { DeadLetterWriter } from "./dead-letters";
import { OffsetTracker } from "./offset-tracker";
import { ProducerStoppedError } from "./produce-errors";
import { RetryBackoff } from "./retry-backoff";
import { batchMessage, type BatchMessage } from "./record-batches";
import { decodeRecord, reportedRecord, type DecodeFormats, type RecordDecodeError, type RecordMessage } from "./record-codec";
import { RegistryUnavailableError } from "./schema-registry/registry-client";
import type { SchemaDecoder } from "./schema-registry/serdes";
import { registerSettler, type Failure, type SettleOutcome, type SettlementHandle } from "./settlement";
import { TransactionCycle } from "./transactions/transaction-cycle";
import { registerTransactionSender } from "./transactions/transaction-senders";

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

/**
 * at-least-once: offsets committed once records are settled; exactly-once: the results
 * and the offsets committed in one Kafka transaction; auto-commit: offsets committed as read.
 */
export type DeliveryMode = "at-least-once" | "exactly-once" | "auto-commit";

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
  /** Exactly-once: the id of the consumer's transactional producer, stable across restarts (it fences the previous one). */
  transactionalId?: string;
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
  /** One msg per batch of up to this many records of a partition (see record-batches.ts); one msg per record when absent. */
  batchRecords?: number;
  /** Batch output: how long a fetch waits for records to fill batches. */
  batchWaitMs?: number;
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
  /** A record's msg; in batch output, only a record that could not be decoded comes alone. */
  onRecord: (msg: RecordMessage, error?: RecordDecodeError) => void;
  /** Batch output: the records of a batch that were decoded. */
  onBatch?: (msg: BatchMessage) => void;
  onState: (state: ConsumerState, detail?: StateDetail) => void;
  onRefused: (refusal: Refusal) => void;
  /** A dead letter could not be written and is being retried (with the failure), or is written again (undefined). */
  onDeadLetterRetry: (error: Error | undefined) => void;
  /** The schema registry did not answer and records wait for it (with the failure), or it answers again (undefined). */
  onRegistryWait?: (error: Error | undefined) => void;
  /** The client retried after a failure (a connection reset, a request timed out) while the consumer kept its partitions. */
  onConnectionTrouble?: (error: string) => void;
  /** Exactly-once: a transaction was aborted; its records (the count) are read and processed again. */
  onAborted?: (reason: string, records: number) => void;
  /** Exactly-once: the broker refused to end a transaction (a newer producer of the id, or the transaction's timeout, came first); a new producer takes over. */
  onFenced?: (reason: string) => void;
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
  /** The uncommitted count the loop waits to fall to. */
  private waitingUntil = 0;
  /** The status says paused; it stays so until the consumer has read without waiting for a while. */
  private showingPaused = false;
  private waitEndedAt = 0;
  /** Ends the back-pressure wait early, when a commit made room. */
  private wakeWaiter: (() => void) | undefined;
  private commitQueued = false;
  private stopping = false;
  private joined = false;
  /** Exactly-once: the consumer's transactions. */
  readonly transaction: TransactionCycle | undefined;
  /** The settlement source of the records emitted now; a new one after each abort, so that results of aborted records are not written. */
  private source: string;
  private sourceEpoch = 0;
  private unregisterSource: () => void = () => undefined;
  /** Exactly-once: an abort is under way. */
  private aborting = false;
  /** Ends an exactly-once commit's wait for the records it covers to be settled. */
  private wakeDrain: (() => void) | undefined;
  /** That wait has lasted, and the status shows it as paused. */
  private drainStalled = false;

  constructor(
    private readonly connection: KafkaConnection,
    private readonly options: ConsumerLoopOptions,
    private readonly events: ConsumerLoopEvents,
  ) {
    if (options.deliveryMode === "exactly-once") {
      if (!connection.engine.transactional || !options.transactionalId) throw new Error(`the ${connection.engine.name} engine has no exactly-once`);
      this.transaction = new TransactionCycle(connection.engine.transactional(options.transactionalId));
    }
    const transaction = this.transaction;
    if (options.deadLetterTopic) {
      // exactly-once: dead letters are written in the transaction of the records they stand for
      const producer = transaction
        ? { send: (topic: string, record: OutgoingRecord) => transaction.send(topic, record), stop: () => undefined }
        : connection.engine.producer(
            { acks: -1, compression: "none", idempotent: false, deliveries: false },
            { retrying: (error) => this.events.onDeadLetterRetry(error), recovered: () => this.events.onDeadLetterRetry(undefined) },
          );
      this.deadLetters = new DeadLetterWriter(producer, options.deadLetterTopic);
    }
    this.source = options.source;
    this.registerSource();
    // until it has joined its group, a retried error tells why the consumer is still connecting
    const retriedErrors = connection.engine.onRetriedError((error) => {
      if (!this.joined) this.events.onState("connecting", { reason: error });
      else this.events.onConnectionTrouble?.(error);
    });
    this.unregister = () => {
      this.unregisterSource();
      retriedErrors();
    };
  }

  /** Settlements (and, exactly-once, the transaction's sends) of records emitted under the current source. */
  private registerSource(): void {
    const settler = registerSettler(this.source, (handle, outcome, failure) => this.settle(handle, outcome, failure));
    const transaction = this.transaction;
    const sender = transaction ? registerTransactionSender(this.source, { connection: this.connection, send: (topic, record) => transaction.send(topic, record) }) : undefined;
    this.unregisterSource = () => {
      settler();
      sender?.();
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
        // no wait (0) hands over what a fetch has at once, as per record
        fillWaitMs: this.options.batchRecords && this.options.batchWaitMs ? this.options.batchWaitMs : undefined,
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
    // exactly-once: the open transaction's records may no longer be this consumer's; the new owners read them from the committed offsets
    if (this.transaction && this.tracker.uncommitted > 0) this.abort("the group's partitions were reassigned", false);
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

  /** Emits a fetched batch's records, one msg each (or in batch msgs), waiting for room when maxUnsettled are in flight. */
  private async emit(batch: RecordBatch, control: BatchControl): Promise<void> {
    const { topic, partition } = batch;
    // a stop, a rebalance or a stopped partition can only come while this loop awaits: checked then, not per record
    if (!control.stillValid() || this.tracker.isStopped(topic, partition)) return;
    if (this.options.schemas && !(await this.fetchSchemas(this.options.schemas, batch, control))) return;
    if (this.options.batchRecords) return this.emitInBatches(batch, control, Math.min(this.options.batchRecords, this.options.maxUnsettled));
    for (const record of batch.records) {
      if (this.mustWait(1) && !(await this.waitToEmit(control, topic, partition, 1))) return;
      const decoded = this.take(topic, partition, record, control);
      if (decoded) this.events.onRecord(decoded.msg, decoded.error);
    }
  }

  /** Emits the records in batch msgs of up to `size`; a record that cannot be decoded goes alone, with its error. */
  private async emitInBatches(batch: RecordBatch, control: BatchControl, size: number): Promise<void> {
    const { topic, partition, records } = batch;
    for (let start = 0; start < records.length; start += size) {
      const chunk = records.slice(start, start + size);
      if (this.mustWait(chunk.length) && !(await this.waitToEmit(control, topic, partition, chunk.length))) return;
      const decoded: RecordMessage[] = [];
      for (const record of chunk) {
        const taken = this.take(topic, partition, record, control);
        if (taken?.error) this.events.onRecord(taken.msg, taken.error);
        else if (taken) decoded.push(taken.msg);
      }
      if (decoded.length > 0) this.events.onBatch?.(batchMessage(decoded));
    }
  }

  /** Whether `count` more records must wait: for room under back-pressure, or for the next transaction. */
  private mustWait(count: number): boolean {
    return (this.tracksSettlement && this.tracker.uncommitted + count > this.options.maxUnsettled) || (this.transaction !== undefined && !this.transaction.isOpen);
  }

  /** Waits until `count` more records may be emitted; false if the batch is to be left. */
  private async waitToEmit(control: BatchControl, topic: string, partition: number, count: number): Promise<boolean> {
    // back-pressure waits here rather than pausing the consumer: a pause drops the
    // batch the client already fetched, and fetching it again caps throughput
    if (this.tracksSettlement && this.tracker.uncommitted + count > this.options.maxUnsettled) {
      if (!(await this.roomFor(control, count)) || this.tracker.isStopped(topic, partition)) return false;
    }
    // exactly-once: records wait while a transaction closes, and are left if it aborted (read again from its start)
    if (this.transaction && !this.transaction.isOpen) {
      await this.transaction.whenOpen();
      if (this.stopping || !control.stillValid()) return false;
    }
    return true;
  }

  /** Tracks a record and decodes it; undefined if it is in flight already (fetched again). */
  private take(topic: string, partition: number, record: ConsumedRecord, control: BatchControl): { msg: RecordMessage; error?: RecordDecodeError } | undefined {
    control.handled(record.offset);
    if (!this.tracker.track(topic, partition, record.offset)) return undefined;
    if (this.deadLetters) this.originals.set(recordKey(topic, partition, record.offset), { topic, partition, record });
    const decoded = decodeRecord(topic, partition, record, this.options.formats, this.source, this.options.schemas);
    if (this.transaction) decoded.msg.kafka.transactional = true;
    return decoded;
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
    // exactly-once: the open transaction is aborted; the next start fences this producer's epoch
    if (this.transaction) this.renewSource();
    const closed = this.transaction?.close().catch(() => undefined) ?? Promise.resolve();
    this.restartTimer = setTimeout(() => {
      void Promise.all([closed, failed?.stop().catch(() => undefined)]).then(() => this.start());
    }, delay);
  }

  private async run(): Promise<void> {
    this.events.onState("connecting");
    // the transaction is open before any record is read: its begin fences an older instance first
    await this.transaction?.start();
    if (this.stopping) return;
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
    this.wakeDrain?.();
    // exactly-once: what the open transaction holds is aborted, and read again by the next owner; a pause between aborts ends now
    const closing = this.transaction?.close();
    await this.commit();
    await closing;
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
    // exactly-once: a result not written, or a failure with nowhere to put the record, spoils the transaction
    if (this.transaction && (outcome === "undelivered" || !this.deadLetters || !original)) {
      this.abort(failure?.error ?? "a record failed", true);
      return;
    }
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
        // stopping (or the transaction aborted): left unsettled, so it is read again
        if (error instanceof ProducerStoppedError) return;
        if (this.transaction) this.abort(`the dead-letter topic ${deadLetterTopic}: ${error.message}`, true);
        else this.refuse(handle, error.message, { deadLetterTopic, record: original.record });
      },
    );
  }

  /** A record that could not be written anywhere: its partition stops there, or it is skipped (RefusalPolicy). */
  private refuse(handle: SettlementHandle, reason: string, deadLetter?: { deadLetterTopic: string; record: ConsumedRecord }): void {
    const { topic, partition, offset } = handle;
    // from an earlier assignment, or held already by a stop: it is read again either way
    if (!this.tracker.isUnsettled(topic, partition, offset)) return;
    const key = recordKey(topic, partition, offset);
    const stop = this.options.refusalPolicy === "stop" && this.tracksSettlement;
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
      if (this.waiting && this.tracker.uncommitted <= this.waitingUntil) this.wakeWaiter?.();
    } else {
      this.markSettled(handle, key);
    }
    this.events.onRefused(refusal);
  }

  /** `key` names the original kept for the dead-letter topic, which is then no longer needed. */
  private markSettled(handle: SettlementHandle, key?: string): void {
    if (key) this.originals.delete(key);
    if (!this.tracker.settle(handle.topic, handle.partition, handle.offset)) return;
    if (this.wakeDrain && this.tracker.unsettled === 0) this.wakeDrain();
    if (this.waiting || this.tracker.settledUncommitted >= this.options.maxUnsettled * COMMIT_AT_SHARE) this.commitSoon();
  }

  /** Records are committed once settled (at-least-once, exactly-once), not as read. */
  private get tracksSettlement(): boolean {
    return this.options.deliveryMode !== "auto-commit";
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
   * Called when `count` more records would pass maxUnsettled: commits at once and waits
   * until commits make room for them and down to the resume share, keeping the group
   * membership alive with heartbeats. Resolves true to go on reading, false if the batch
   * should be left (stop, rebalance).
   */
  private async roomFor(control: BatchControl, count: number): Promise<boolean> {
    this.waiting = true;
    this.showPaused(true);
    this.commitSoon();
    this.waitingUntil = Math.min(this.resumeAt, this.options.maxUnsettled - count);
    try {
      while (this.tracker.uncommitted > this.waitingUntil) {
        if (this.stopping || !control.stillValid()) return false;
        await sleepUnlessWoken(WAIT_CHECK_MS, (wake) => (this.wakeWaiter = wake));
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
    if (this.showingPaused && !this.waiting && !this.drainStalled && Date.now() - this.waitEndedAt >= PAUSED_STATUS_HOLD_MS) this.showPaused(false);
  }

  private showPaused(paused: boolean): void {
    if (this.showingPaused === paused) return;
    this.showingPaused = paused;
    this.events.onState(paused ? "paused" : "connected", { inFlight: this.tracker.uncommitted });
  }

  /** Commits are chained so that two never race and an older one never lands last. */
  private commit(): Promise<void> {
    if (this.options.deliveryMode === "auto-commit") return this.committing;
    if (this.transaction) return this.commitTransaction(this.transaction);
    this.committing = this.committing.then(async () => {
      this.commitQueued = false;
      const points = this.tracker.pendingCommits();
      const consumer = this.consumer;
      if (points.length === 0 || !consumer) return;
      try {
        await consumer.commit(points);
        this.tracker.markCommitted(points);
        if (this.waiting && this.tracker.uncommitted <= this.waitingUntil) this.wakeWaiter?.();
      } catch (error) {
        // not fatal: the next tick retries, and a record that is not committed is only read again
        this.events.onState(this.showingPaused ? "paused" : "connected", { error: error as Error, inFlight: this.tracker.uncommitted });
      }
    });
    return this.committing;
  }

  /**
   * Exactly-once: holds emission, waits until every record emitted in the open
   * transaction is settled (its results written, or dead-lettered), then commits the
   * transaction with those records' offsets and opens the next one.
   */
  private commitTransaction(transaction: TransactionCycle): Promise<void> {
    this.committing = this.committing.then(async () => {
      this.commitQueued = false;
      const consumer = this.consumer;
      if (!consumer || this.aborting || this.stopping || !transaction.isOpen || this.tracker.uncommitted === 0) return;
      transaction.hold();
      // an abort or a stop takes over from here: it ends the transaction and opens the gate
      if (!(await this.drained())) return;
      const points = this.tracker.pendingCommits();
      try {
        await transaction.commit(points, consumer);
      } catch (error) {
        this.abort(`the transaction did not commit: ${(error as Error).message}`, true);
        return;
      }
      this.tracker.markCommitted(points);
      if (this.waiting && this.tracker.uncommitted <= this.waitingUntil) this.wakeWaiter?.();
    });
    return this.committing;
  }

  /**
   * Until every emitted record is settled; false if an abort or a stop came first. A
   * wait that lasts (records that reach neither kafka-out nor kafka-commit) shows as paused.
   */
  private async drained(): Promise<boolean> {
    const since = Date.now();
    try {
      while (this.tracker.unsettled > 0 && !this.aborting && !this.stopping) {
        await sleepUnlessWoken(DRAIN_CHECK_MS, (wake) => (this.wakeDrain = wake));
        this.wakeDrain = undefined;
        if (!this.drainStalled && Date.now() - since >= DRAIN_SHOWN_AFTER_MS) {
          this.drainStalled = true;
          this.showPaused(true);
        }
      }
    } finally {
      if (this.drainStalled) this.waitEndedAt = Date.now();
      this.drainStalled = false;
    }
    return !this.aborting && !this.stopping;
  }

  /**
   * Exactly-once: aborts the open transaction. Its records are forgotten and (rewind)
   * read again from the last committed offsets; their results still in the flow are not
   * written, as they carry the old source.
   */
  private abort(reason: string, rewind: boolean): void {
    const transaction = this.transaction;
    if (!transaction || this.aborting || this.stopping) return;
    this.aborting = true;
    transaction.hold();
    this.renewSource();
    const records = this.tracker.uncommitted;
    const points = this.tracker.rewindPoints();
    this.tracker.forget(() => false);
    this.originals.clear();
    if (rewind) this.consumer?.rewind(points);
    this.wakeDrain?.();
    this.wakeWaiter?.();
    this.events.onAborted?.(reason, records);
    this.committing = this.committing.then(async () => {
      await transaction.abortAndBegin({
        fenced: (error) => this.events.onFenced?.(error.message),
        retrying: (error) => this.events.onState("connecting", { reason: error.message }),
      });
      this.aborting = false;
    });
  }

  private renewSource(): void {
    this.unregisterSource();
    this.source = `${this.options.source}/${++this.sourceEpoch}`;
    this.registerSource();
  }
}

/** Exactly-once: how long a commit waits for its records before it looks again (a settle, a stop, an abort end the wait at once). */
const DRAIN_CHECK_MS = 1000;
/** Exactly-once: a commit that has waited this long for its records shows the consumer as paused. */
const DRAIN_SHOWN_AFTER_MS = 5000;

/** Sleeps `ms`, or less if the function handed to `setWake` is called first. */
function sleepUnlessWoken(ms: number, setWake: (wake: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    setWake(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function recordKey(topic: string, partition: number, offset: string): string {
  return `${partition}/${offset}/${topic}`;
}
