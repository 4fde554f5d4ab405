import type { ConnectionState, Delivery, EngineProducer, OutgoingRecord, ProducerEvents, SendOptions } from "../../engine";
import { ProduceRefusedError, ProducerStoppedError, refusalReason } from "../../produce-errors";
import { RetryBackoff } from "../../retry-backoff";
import type { NativeConfig } from "./config";
import type { LibrdkafkaClient, NativeDeliveryReport, NativeError, NativeProducer } from "./native";
import type { NativeProblems } from "./problems";
import { permanentRefusal } from "./refusals";

const CONNECT_TIMEOUT_MS = 30_000;
/** How long a full local queue (librdkafka's queue.buffering.max.messages) is given to drain before the record is offered again. */
export const QUEUE_FULL_WAIT_MS = 20;

interface Pending {
  topic: string;
  record: OutgoingRecord;
  retry: boolean;
  /** Sent again in a batch of its own, after its batch was refused as too large. */
  alone: boolean;
  owner: LibrdkafkaProducer;
  resolve: (delivery: Delivery | undefined) => void;
  reject: (error: Error) => void;
}

export function asBuffer(value: Buffer | string | null | undefined): Buffer | null {
  if (value == null) return null;
  return typeof value === "string" ? Buffer.from(value) : value;
}

/** Headers in the native client's form: an object per header, in order; a repeated name once per value. */
export function nativeHeaders(record: OutgoingRecord): Record<string, Buffer>[] | undefined {
  if (!record.headers) return undefined;
  const headers: Record<string, Buffer>[] = [];
  for (const [name, value] of Object.entries(record.headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.push({ [name]: asBuffer(one) as Buffer });
  }
  return headers;
}

/**
 * One native producer, shared by the nodes whose settings match: connected on first
 * use, delivery reports polled by librdkafka's own thread and handed to each record's
 * producer through the report's opaque.
 */
export class SharedNativeProducer {
  readonly connected: Promise<NativeProducer>;
  /** The producer once connected: records are handed to it at once, without a wait. */
  ready: NativeProducer | undefined;

  constructor(client: LibrdkafkaClient, config: NativeConfig, notify: (state: ConnectionState) => void, problems: NativeProblems) {
    const producer = new client.Producer({ ...config, dr_cb: true });
    producer.on("delivery-report", (error, report) => {
      const pending = report.opaque as Pending;
      pending.owner.delivered(pending, error, report);
    });
    producer.on("event.log", problems.logged);
    producer.on("event.error", problems.errored);
    producer.on("error", problems.tokenFailed);
    producer.on("disconnected", () => notify("disconnected"));
    notify("connecting");
    this.connected = new Promise((resolve, reject) =>
      producer.connect({ timeout: CONNECT_TIMEOUT_MS }, (error) => {
        if (error) return reject(problems.explained(error, CONNECT_TIMEOUT_MS));
        producer.setPollInBackground(true);
        this.ready = producer;
        notify("connected");
        resolve(producer);
      }),
    );
  }

  /** Writes what is queued (up to a few seconds), then disconnects. */
  async close(): Promise<void> {
    const producer = await this.connected.catch(() => undefined);
    if (!producer?.isConnected()) return;
    await new Promise<void>((resolve) => producer.flush(5000, () => resolve()));
    await new Promise<void>((resolve) => producer.disconnect(() => resolve()));
  }
}

/** Kafka's names for a batch refused as too large: every record of the batch is reported so, though one alone may be. */
const SIZE_REFUSALS = new Set(["MESSAGE_TOO_LARGE", "RECORD_LIST_TOO_LARGE"]);

/**
 * A node's producer on the librdkafka engine. librdkafka batches, compresses and retries
 * by itself and reports each record on its own. A batch the broker refuses as too large
 * is reported so for each of its records: each is sent again in a batch of its own, so
 * that only a record too large by itself fails. A record marked retry that librdkafka
 * gives up on (a broker out of reach for a minute) is offered again after a growing pause.
 */
export class LibrdkafkaProducer implements EngineProducer {
  private readonly pending = new Set<Pending>();
  private readonly backoff: RetryBackoff;
  private toRetry: Pending[] = [];
  private waiting = false;
  private stopped = false;

  constructor(
    /** The shared producer for these settings; `alone`: the one that puts every record in a batch of its own. */
    private readonly shared: (alone: boolean) => SharedNativeProducer,
    private readonly deliveries: boolean,
    events: ProducerEvents,
  ) {
    this.backoff = new RetryBackoff(events);
  }

  send(topic: string, record: OutgoingRecord, options: SendOptions = {}): Promise<Delivery | undefined> {
    if (this.stopped) return Promise.reject(new ProducerStoppedError());
    return new Promise((resolve, reject) => {
      const item: Pending = { topic, record, retry: Boolean(options.retry), alone: false, owner: this, resolve, reject };
      this.pending.add(item);
      void this.write(item);
    });
  }

  stop(): void {
    this.stopped = true;
    this.backoff.cancel();
    this.toRetry = [];
    const pending = [...this.pending];
    this.pending.clear();
    for (const item of pending) item.reject(new ProducerStoppedError());
  }

  private async write(item: Pending): Promise<void> {
    const shared = this.shared(item.alone);
    let producer: NativeProducer;
    if (shared.ready) {
      producer = shared.ready;
    } else {
      try {
        producer = await shared.connected;
      } catch (error) {
        this.failed(item, error as NativeError);
        return;
      }
    }
    const { topic, record } = item;
    for (;;) {
      if (!this.pending.has(item)) return; // stopped meanwhile
      try {
        const timestamp = record.timestamp === undefined ? null : Number(record.timestamp);
        producer.produce(topic, record.partition ?? null, asBuffer(record.value), asBuffer(record.key), timestamp, item, nativeHeaders(record));
        return;
      } catch (error) {
        if ((error as NativeError).code !== QUEUE_FULL) {
          this.failed(item, error as NativeError);
          return;
        }
        // librdkafka's queue is full: the flow outruns the broker for a moment
        await new Promise((resolve) => setTimeout(resolve, QUEUE_FULL_WAIT_MS));
      }
    }
  }

  /** The delivery report of one of this producer's records. */
  delivered(item: Pending, error: NativeError | null, report: NativeDeliveryReport): void {
    if (!this.pending.has(item)) return;
    if (error) {
      this.failed(item, error);
      return;
    }
    this.pending.delete(item);
    this.backoff.succeeded();
    const offset = report.offset >= 0 ? String(report.offset) : "-1";
    item.resolve(this.deliveries ? { topic: report.topic, partition: report.partition, offset } : undefined);
  }

  private failed(item: Pending, error: NativeError): void {
    const code = permanentRefusal(error);
    if (code !== undefined && SIZE_REFUSALS.has(code) && !item.alone && !this.stopped) {
      item.alone = true;
      void this.write(item);
      return;
    }
    if (code !== undefined || !item.retry || this.stopped) {
      this.pending.delete(item);
      item.reject(code === undefined ? error : new ProduceRefusedError(item.topic, code, refusalReason(code)));
      return;
    }
    this.toRetry.push(item);
    if (!this.waiting) void this.retryLater(error);
  }

  private async retryLater(error: Error): Promise<void> {
    this.waiting = true;
    await this.backoff.wait(error);
    this.waiting = false;
    const again = this.toRetry;
    this.toRetry = [];
    for (const item of again) void this.write(item);
  }
}

/** librdkafka's ERR__QUEUE_FULL. */
export const QUEUE_FULL = -184;
