import type { BrokerSettings, ConnectionState, KafkaEngine, Logger } from "./engine";
import { openEngine, type EngineChoice } from "./engines/open-engine";

export function parseBrokerList(list: string): string[] {
  return list
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
}

/**
 * One broker connection shared by every node that uses a kafka-broker config: its
 * engine's producers, connected on first use and disconnected when the last node that
 * produces leaves, and consumers made on the same engine.
 */
export class KafkaConnection {
  readonly engine: KafkaEngine;
  /** The shared producer's last known state; undefined until a node first produces. */
  producerState: ConnectionState | undefined;
  private producerUsers = 0;

  /** Throws EngineUnavailableError when the chosen engine cannot load. */
  constructor(settings: BrokerSettings, choice: EngineChoice, log: Logger, notify: (state: ConnectionState) => void = () => undefined) {
    this.engine = openEngine(choice, settings, log, (state) => {
      this.producerState = state;
      notify(state);
    });
  }

  /** Counts a node that produces; pair with releaseProducer() when it closes. */
  holdProducer(): void {
    this.producerUsers++;
  }

  async releaseProducer(): Promise<void> {
    this.producerUsers = Math.max(0, this.producerUsers - 1);
    if (this.producerUsers === 0) await this.close();
  }

  /** Disconnects the shared producers that are connected (a dead-letter write may connect one too). */
  close(): Promise<void> {
    return this.engine.closeProducers();
  }
}
