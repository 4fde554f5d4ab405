import type { CommitPoint } from "../../offset-tracker";
import type { Delivery, EngineConsumer, OutgoingRecord, TransactionalProducer } from "../../engine";
import { TransactionAbortedError, TransactionError } from "../../transactions/transaction-errors";
import type { NativeConfig } from "./config";
import { LibrdkafkaConsumer } from "./consumer";
import type { LibrdkafkaClient, NativeDeliveryReport, NativeError, NativeProducer } from "./native";
import type { NativeProblems } from "./problems";
import { asBuffer, nativeHeaders, QUEUE_FULL, QUEUE_FULL_WAIT_MS } from "./producer";

const CONNECT_TIMEOUT_MS = 30_000;
/** How long one transaction call (init, send offsets, commit, abort) may take. */
const OPERATION_TIMEOUT_MS = 10_000;
/**
 * The broker aborts a transaction left open longer than this (a Node-RED frozen or cut
 * off): its records never show to read_committed readers, and those readers wait for
 * it no longer than this. Kafka Streams uses 10 s under exactly-once; 20 s leaves room
 * for a slow model to finish a full in-flight bound before the commit.
 */
export const TRANSACTION_TIMEOUT_MS = 20_000;
/** Times a commit call that failed for the moment (a coordinator moving) is made again. */
const COMMIT_ATTEMPTS = 3;

interface Sent {
  resolve: (delivery: Delivery) => void;
  reject: (error: Error) => void;
}

/** A native failure of a transaction call, saying which call failed. */
function transactionError(error: NativeError, what: string): TransactionError {
  return new TransactionError(`${what}: ${error.message}`);
}

/**
 * A transactional native producer: one per exactly-once consumer, with a transactional
 * id stable across restarts of the same consumer, so that the first begin() of a new
 * instance fences the old one (its late commits are refused).
 */
export class LibrdkafkaTransactionalProducer implements TransactionalProducer {
  private connecting: Promise<NativeProducer> | undefined;
  private producer: NativeProducer | undefined;
  private readonly sent = new Set<Sent>();

  constructor(
    private readonly client: LibrdkafkaClient,
    private readonly config: NativeConfig,
    private readonly problems: NativeProblems,
  ) {}

  async begin(): Promise<void> {
    const producer = await this.connect();
    await call((done) => producer.beginTransaction(done), "begin the transaction");
  }

  send(topic: string, record: OutgoingRecord): Promise<Delivery> {
    const producer = this.producer;
    if (!producer) return Promise.reject(new TransactionAbortedError());
    return new Promise((resolve, reject) => {
      const sent: Sent = { resolve, reject };
      this.sent.add(sent);
      void this.produce(producer, topic, record, sent);
    });
  }

  private async produce(producer: NativeProducer, topic: string, record: OutgoingRecord, sent: Sent): Promise<void> {
    const timestamp = record.timestamp === undefined ? null : Number(record.timestamp);
    for (;;) {
      if (!this.sent.has(sent)) return; // aborted meanwhile
      try {
        producer.produce(topic, record.partition ?? null, asBuffer(record.value), asBuffer(record.key), timestamp, sent, nativeHeaders(record));
        return;
      } catch (error) {
        if ((error as NativeError).code !== QUEUE_FULL) return this.settleSent(sent, error as NativeError);
        await new Promise((resolve) => setTimeout(resolve, QUEUE_FULL_WAIT_MS));
      }
    }
  }

  private settleSent(sent: Sent, error: NativeError | null, report?: NativeDeliveryReport): void {
    if (!this.sent.delete(sent)) return;
    if (error || !report) sent.reject(error ?? new Error("no delivery report"));
    else sent.resolve({ topic: report.topic, partition: report.partition, offset: String(report.offset) });
  }

  async commit(points: CommitPoint[], consumer: EngineConsumer): Promise<void> {
    const producer = this.producer;
    if (!producer) throw new TransactionError("no transaction is open");
    if (!(consumer instanceof LibrdkafkaConsumer)) throw new TransactionError("the consumer is not a librdkafka consumer");
    const native = consumer.native;
    if (points.length > 0) {
      const offsets = points.map(({ topic, partition, offset }) => ({ topic, partition, offset: Number(offset) }));
      await retried((done) => producer.sendOffsetsToTransaction(offsets, native, OPERATION_TIMEOUT_MS, done), "send the offsets to the transaction");
    }
    await retried((done) => producer.commitTransaction(OPERATION_TIMEOUT_MS, done), "commit the transaction");
  }

  async abort(): Promise<void> {
    const sent = [...this.sent];
    this.sent.clear();
    for (const one of sent) one.reject(new TransactionAbortedError());
    const producer = this.producer;
    if (producer) await call((done) => producer.abortTransaction(OPERATION_TIMEOUT_MS, done), "abort the transaction");
  }

  async close(): Promise<void> {
    const connecting = this.connecting;
    this.connecting = undefined;
    this.producer = undefined;
    const producer = await connecting?.catch(() => undefined);
    if (!producer) return;
    // an open transaction is aborted at once rather than left to time out on the broker
    await call((done) => producer.abortTransaction(OPERATION_TIMEOUT_MS, done), "abort").catch(() => undefined);
    await new Promise<void>((resolve) => producer.disconnect(() => resolve()));
  }

  /** The connected producer with transactions initialised, made on first use and after close(). */
  private connect(): Promise<NativeProducer> {
    if (this.connecting) return this.connecting;
    const producer = new this.client.Producer({ ...this.config, dr_cb: true });
    producer.on("delivery-report", (error, report) => this.settleSent(report.opaque as Sent, error, report));
    producer.on("event.log", this.problems.logged);
    producer.on("event.error", this.problems.errored);
    producer.on("error", this.problems.tokenFailed);
    const connecting = new Promise<NativeProducer>((resolve, reject) =>
      producer.connect({ timeout: CONNECT_TIMEOUT_MS }, (error) => {
        if (error) return reject(this.problems.explained(error, CONNECT_TIMEOUT_MS));
        producer.setPollInBackground(true);
        // fences every older producer of this transactional id, and ends what it left open
        producer.initTransactions(OPERATION_TIMEOUT_MS, (failure) => (failure ? reject(transactionError(failure, "start transactions")) : resolve(producer)));
      }),
    );
    this.connecting = connecting;
    connecting.then(
      (ready) => {
        if (this.connecting === connecting) this.producer = ready;
      },
      () => {
        if (this.connecting === connecting) this.connecting = undefined;
        if (producer.isConnected()) producer.disconnect(() => undefined);
      },
    );
    return connecting;
  }
}

function call(operation: (done: (error: NativeError | null) => void) => void, what: string): Promise<void> {
  return new Promise((resolve, reject) => operation((error) => (error ? reject(transactionError(error, what)) : resolve())));
}

/** A call made again while it fails with an error librdkafka calls retriable (a coordinator being elected). */
async function retried(operation: (done: (error: NativeError | null) => void) => void, what: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const failure = await new Promise<NativeError | null>((resolve) => operation(resolve));
    if (!failure) return;
    if (!failure.isRetriable || failure.isTxnRequiresAbort || attempt >= COMMIT_ATTEMPTS) throw transactionError(failure, what);
  }
}
