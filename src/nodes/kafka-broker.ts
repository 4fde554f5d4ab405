import type { Node, NodeAPI } from "node-red";
import { KafkaConnection, parseBrokerList, type ConnectionState } from "../kafka/connection";
import type { KafkaBrokerDef, KafkaBrokerNode } from "./node-config";
import { showStatus } from "./status";

export = function registerKafkaBroker(RED: NodeAPI): void {
  function KafkaBroker(this: KafkaBrokerNode, config: KafkaBrokerDef): void {
    RED.nodes.createNode(this, config);
    const users = new Map<string, Node>();
    const brokers = parseBrokerList(config.brokers ?? "");
    if (brokers.length === 0) this.error(RED._("kafka-broker.errors.no-brokers"));
    const show = (user: Node, state: ConnectionState): void => {
      const look = state === "connected" ? "ok" : state === "connecting" ? "busy" : "off";
      showStatus(user, look, RED._(`kafka-broker.status.${state}`));
    };
    const tell = (state: ConnectionState): void => users.forEach((user) => show(user, state));
    this.connection = new KafkaConnection(
      { brokers, clientId: config.clientId || "node-red" },
      (level, text) => {
        if (level === "warn") this.warn(text);
        else if (level === "info") this.log(text);
        else this.debug(text);
      },
      tell,
    );
    this.register = (user) => {
      users.set(user.id, user);
      this.connection.holdProducer();
      if (this.connection.producerState) show(user, this.connection.producerState);
    };
    this.deregister = (user) => {
      users.delete(user.id);
      return this.connection.releaseProducer();
    };
    this.on("close", (_removed: boolean, done: () => void) => {
      this.connection.close().finally(done);
    });
  }
  RED.nodes.registerType("kafka-broker", KafkaBroker);
};
