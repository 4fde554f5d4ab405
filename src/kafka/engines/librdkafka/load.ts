import type { LibrdkafkaClient } from "./native";

const CLIENT = "@confluentinc/kafka-javascript";

/**
 * Confluent's native client, or why it cannot load here and how to get it. It is an
 * optional dependency built from source: a Node-RED where that build failed runs on
 * kafkajs alone.
 */
export function loadLibrdkafka(): { client: LibrdkafkaClient } | { problem: string } {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- an optional native module, loaded when asked for
    return { client: require(CLIENT) as LibrdkafkaClient };
  } catch (error) {
    const reason = ((error as Error).message ?? String(error)).split("\n")[0];
    return {
      problem:
        `the librdkafka engine needs ${CLIENT}, which does not load here (${reason}). ` +
        `Install it where Node-RED finds its nodes: apt-get install libzstd-dev libcurl4-openssl-dev libsasl2-dev liblz4-dev, ` +
        `then CKJS_LINKING=dynamic npm install ${CLIENT} (in this package's folder, npm run setup does both); or choose the kafkajs engine`,
    };
  }
}
