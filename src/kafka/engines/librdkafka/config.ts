import type { BrokerSettings, Codec } from "../../engine";

/** What the native client's OAUTHBEARER refresh callback resolves with. */
interface NativeToken {
  tokenValue: string;
  /** When it expires, in ms since the epoch. */
  lifetime: number;
  principal: string;
  extensions: Record<string, string>;
}

export type NativeConfig = Record<string, string | number | boolean | (() => Promise<NativeToken>)>;

const SASL_MECHANISMS: Record<string, string> = { plain: "PLAIN", "scram-sha-256": "SCRAM-SHA-256", "scram-sha-512": "SCRAM-SHA-512" };

/** A kafka-broker node's settings as librdkafka's client configuration (the same checked settings kafkajs gets). */
export function clientConfig(settings: BrokerSettings): NativeConfig {
  const config: NativeConfig = { "bootstrap.servers": settings.brokers.join(","), "client.id": settings.clientId };
  const { ssl, sasl, oauthBearer } = settings.security ?? {};
  config["security.protocol"] = ssl ? (sasl ? "sasl_ssl" : "ssl") : sasl ? "sasl_plaintext" : "plaintext";
  if (ssl) {
    const ca = ssl.ca;
    if (ca) config["ssl.ca.pem"] = (Array.isArray(ca) ? ca : [ca]).map(String).join("\n");
    if (typeof ssl.cert === "string") config["ssl.certificate.pem"] = ssl.cert;
    if (typeof ssl.key === "string") config["ssl.key.pem"] = ssl.key;
    if (ssl.passphrase) config["ssl.key.password"] = ssl.passphrase;
    const verify = ssl.rejectUnauthorized !== false;
    config["enable.ssl.certificate.verification"] = verify;
    config["ssl.endpoint.identification.algorithm"] = verify ? "https" : "none";
  }
  if (sasl && "username" in sasl) {
    config["sasl.mechanisms"] = SASL_MECHANISMS[sasl.mechanism];
    config["sasl.username"] = sasl.username;
    config["sasl.password"] = sasl.password;
  }
  if (oauthBearer) {
    // the broker node's own token source rather than librdkafka's built-in OIDC: one client for
    // both engines and the schema registry, with the audience parameter librdkafka cannot send
    config["sasl.mechanisms"] = "OAUTHBEARER";
    config.oauthbearer_token_refresh_cb = async () => {
      const token = await oauthBearer.tokens.token();
      return { tokenValue: token.value, lifetime: token.expiresAt, principal: token.principal, extensions: oauthBearer.extensions };
    };
  }
  return config;
}

/** kafka-out's codec as librdkafka names it. */
export function compressionCodec(codec: Codec): string {
  return codec;
}
