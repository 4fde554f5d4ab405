import type { CompressionTypes, Message, Producer, TopicMessages } from "kafkajs";

export interface ProduceOptions {
  /** -1 = all in-sync replicas, 1 = leader only, 0 = no acknowledgement. */
  acks: -1 | 0 | 1;
  compression?: CompressionTypes;
}

interface Pending {
  topic: string;
  message: Message;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * Produces messages in batches: while one request is on its way to the broker, new
 * messages gather and leave together in the next one. Each message's promise settles
 * when the broker has acknowledged the request that carried it.
 */
export class BatchingProducer {
  private queue: Pending[] = [];
  private sending = false;

  constructor(
    private readonly producer: () => Promise<Producer>,
    private readonly options: ProduceOptions,
  ) {}

  send(topic: string, message: Message): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ topic, message, resolve, reject });
      if (!this.sending) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.sending = true;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0);
      try {
        const producer = await this.producer();
        await producer.sendBatch({ topicMessages: groupByTopic(batch), acks: this.options.acks, compression: this.options.compression });
        for (const item of batch) item.resolve();
      } catch (error) {
        for (const item of batch) item.reject(error as Error);
      }
    }
    this.sending = false;
  }
}

function groupByTopic(batch: Pending[]): TopicMessages[] {
  const byTopic = new Map<string, Message[]>();
  for (const { topic, message } of batch) {
    const messages = byTopic.get(topic);
    if (messages) messages.push(message);
    else byTopic.set(topic, [message]);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}
