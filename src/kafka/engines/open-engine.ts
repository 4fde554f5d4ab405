import type { BrokerSettings, ConnectionState, KafkaEngine, Logger } from "../engine";
import { KafkajsEngine } from "./kafkajs";
import { loadLibrdkafka } from "./librdkafka/load";

/** The kafka-broker node's Engine setting. */
export type EngineChoice = "auto" | "librdkafka" | "kafkajs";

/** The engine chosen cannot run here; the message says what to do. */
export class EngineUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EngineUnavailableError";
  }
}

/**
 * The engine a kafka-broker node asked for. Auto takes librdkafka when its native
 * client loads (faster, every codec), else kafkajs, and says which and why in the log.
 */
export function openEngine(choice: EngineChoice, settings: BrokerSettings, log: Logger, notify: (state: ConnectionState) => void): KafkaEngine {
  if (choice === "kafkajs") return new KafkajsEngine(settings, log, notify);
  const librdkafka = loadLibrdkafka();
  if ("client" in librdkafka) {
    // loaded only where it loads: the kafkajs engine must run without the native client
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { LibrdkafkaEngine } = require("./librdkafka") as typeof import("./librdkafka");
    return new LibrdkafkaEngine(librdkafka.client, settings, log, notify);
  }
  if (choice === "librdkafka") throw new EngineUnavailableError(librdkafka.problem);
  log("info", `engine auto: kafkajs, as the librdkafka engine cannot run here (${librdkafka.problem})`);
  return new KafkajsEngine(settings, log, notify);
}
