import { installChromium } from "./lib/install-chromium";
import { installH2o } from "./lib/install-h2o";
import { installKafka } from "./lib/install-kafka";
import { installKafkaTools } from "./lib/install-kafka-tools";
import { installKcat } from "./lib/install-kcat";
import { installLibrdkafka } from "./lib/install-librdkafka";
import { installPython } from "./lib/install-python";
import { installSchemaRegistry } from "./lib/install-schema-registry";
import { installToxiproxy } from "./lib/install-toxiproxy";

/** Everything the demo and the tests need beyond npm packages; fast when already done. */
export async function setup(): Promise<void> {
  await installKafka();
  installKafkaTools();
  await installLibrdkafka();
  await installPython();
  await installH2o();
  await installSchemaRegistry();
  await installKcat();
  await installToxiproxy();
  await installChromium();
}

export async function main(): Promise<number> {
  await setup();
  return 0;
}
