import type { NodeAPI } from "node-red";
import { KafkaConnection, parseBrokerList } from "../kafka/connection";
import type { ConnectionState, Logger } from "../kafka/engine";
import { EngineUnavailableError, type EngineChoice } from "../kafka/engines/open-engine";
import { securityOptions, type SecurityOptions } from "../kafka/security";
import type { KafkaBrokerCredentials, KafkaBrokerDef, KafkaBrokerNode } from "./node-config";

export = function registerKafkaBroker(RED: NodeAPI): void {
  function KafkaBroker(this: KafkaBrokerNode, config: KafkaBrokerDef): void {
    RED.nodes.createNode(this, config);
    const users = new Map<string, (state: ConnectionState) => void>();
    const brokers = parseBrokerList(config.brokers ?? "");
    if (brokers.length === 0) this.configError = RED._("kafka-broker.errors.no-brokers");
    let security: SecurityOptions | undefined;
    try {
      security = brokerSecurity(config, this.credentials ?? {});
    } catch (error) {
      this.configError = RED._("kafka-broker.errors.security", { error: (error as Error).message });
    }
    const tell = (state: ConnectionState): void => users.forEach((listener) => listener(state));
    const log: Logger = (level, text) => {
      if (level === "warn") this.warn(text);
      else if (level === "info") this.log(text);
      else this.debug(text);
    };
    const choice: EngineChoice = config.engine === "kafkajs" || config.engine === "librdkafka" ? config.engine : "auto";
    try {
      this.connection = new KafkaConnection({ brokers, clientId: config.clientId || "node-red", security }, choice, log, tell);
      this.log(RED._("kafka-broker.log.engine", { engine: this.connection.engine.name, client: this.connection.engine.description, choice }));
    } catch (error) {
      if (!(error instanceof EngineUnavailableError)) throw error;
      this.configError ??= RED._("kafka-broker.errors.engine", { error: error.message });
    }
    if (this.configError) this.error(this.configError);
    // only nodes of a broker without configError register: that one has a connection
    this.register = (user, listener) => {
      users.set(user.id, listener);
      this.connection?.holdProducer();
      if (this.connection?.producerState) listener(this.connection.producerState);
    };
    this.deregister = (user) => {
      users.delete(user.id);
      return this.connection?.releaseProducer() ?? Promise.resolve();
    };
    this.on("close", (_removed: boolean, done: () => void) => {
      (this.connection?.close() ?? Promise.resolve()).finally(done);
    });
  }
  RED.nodes.registerType<KafkaBrokerNode, KafkaBrokerDef, unknown, KafkaBrokerCredentials>("kafka-broker", KafkaBroker, {
    credentials: {
      username: { type: "text" },
      password: { type: "password" },
      tlsCa: { type: "text" },
      tlsCert: { type: "text" },
      tlsKey: { type: "password" },
      tlsPassphrase: { type: "password" },
      oauthClientSecret: { type: "password" },
    },
  });
};

function brokerSecurity(config: KafkaBrokerDef, credentials: KafkaBrokerCredentials): SecurityOptions {
  return securityOptions({
    tls: Boolean(config.tls),
    tlsVerify: config.tlsVerify !== false,
    ca: { pasted: credentials.tlsCa, file: config.tlsCaFile },
    cert: { pasted: credentials.tlsCert, file: config.tlsCertFile },
    key: { pasted: credentials.tlsKey, file: config.tlsKeyFile },
    passphrase: credentials.tlsPassphrase,
    sasl: config.saslMechanism || "none",
    username: credentials.username,
    password: credentials.password,
    oauth:
      config.saslMechanism === "oauthbearer"
        ? {
            tokenEndpoint: config.oauthTokenEndpoint ?? "",
            clientId: config.oauthClientId ?? "",
            clientSecret: credentials.oauthClientSecret ?? "",
            scope: config.oauthScope,
            audience: config.oauthAudience,
          }
        : undefined,
    oauthExtensions: config.oauthExtensions,
  });
}
