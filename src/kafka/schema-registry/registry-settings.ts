import { OAuthTokenSource } from "../oauth-tokens";
import type { RegistrySettings } from "./registry-client";
import type { EncoderSettings, SubjectStrategy } from "./serdes";

/** A schema-registry node's configuration, as the editor saves it. */
export interface RegistryConfig {
  urls?: string;
  /** none, basic, bearer (a fixed token) or oauth (tokens from an OAuth 2 client). */
  auth?: string;
  oauthTokenEndpoint?: string;
  oauthClientId?: string;
  oauthScope?: string;
  oauthAudience?: string;
  /** Confluent Cloud: the registry's logical cluster id (lsrc-...) and the identity pool, sent as headers. */
  oauthLogicalCluster?: string;
  oauthIdentityPool?: string;
}

export interface RegistryCredentials {
  username?: string;
  password?: string;
  token?: string;
  oauthClientSecret?: string;
  ca?: string;
}

/** The registry's settings from a node's configuration and credentials; throws on what cannot work. */
export function registrySettings(config: RegistryConfig, credentials: RegistryCredentials): RegistrySettings {
  const urls = (config.urls ?? "")
    .split(",")
    .map((url) => url.trim())
    .filter(Boolean);
  for (const url of urls) {
    if (!/^https?:\/\/[^/]/.test(url)) throw new Error(`${url} is not an http:// or https:// URL`);
  }
  const settings: RegistrySettings = { urls, ca: credentials.ca?.trim() || undefined };
  if (config.auth === "basic") return { ...settings, username: credentials.username ?? "", password: credentials.password ?? "" };
  if (config.auth === "bearer") return { ...settings, token: credentials.token ?? "" };
  if (config.auth === "oauth") {
    const tokens = new OAuthTokenSource({
      tokenEndpoint: config.oauthTokenEndpoint ?? "",
      clientId: config.oauthClientId ?? "",
      clientSecret: credentials.oauthClientSecret ?? "",
      scope: config.oauthScope,
      audience: config.oauthAudience,
    });
    const headers: Record<string, string> = {};
    if (config.oauthLogicalCluster?.trim()) headers["target-sr-cluster"] = config.oauthLogicalCluster.trim();
    if (config.oauthIdentityPool?.trim()) headers["Confluent-Identity-Pool-Id"] = config.oauthIdentityPool.trim();
    return { ...settings, tokens, ...(Object.keys(headers).length > 0 ? { headers } : {}) };
  }
  return settings;
}

/** The node's settings for writing registry records, as the editor saves them. */
export interface WriterConfig {
  subjectStrategy?: string;
  recordName?: string;
  /** latest, version, id or register. */
  schemaSource?: string;
  schemaVersion?: string | number;
  schemaId?: string | number;
  /** AVRO, PROTOBUF or JSON: the type of schemaText, for register. */
  schemaType?: string;
  schemaText?: string;
}

function wholeNumber(value: string | number | undefined, what: string): number {
  const number = typeof value === "number" ? value : Number.parseInt(String(value ?? ""), 10);
  if (!Number.isInteger(number) || number < 1) throw new Error(`${what} must be a whole number from 1, not ${JSON.stringify(value ?? "")}`);
  return number;
}

/** Which subject and schema kafka-out writes in; throws naming the setting that cannot be used. */
export function encoderSettings(config: WriterConfig): EncoderSettings {
  const strategy: SubjectStrategy = config.subjectStrategy === "record" || config.subjectStrategy === "topic-record" ? config.subjectStrategy : "topic";
  const recordName = config.recordName?.trim() || undefined;
  let use: EncoderSettings["use"];
  if (config.schemaSource === "version") use = { version: wholeNumber(config.schemaVersion, "the schema version") };
  else if (config.schemaSource === "id") use = { id: wholeNumber(config.schemaId, "the schema id") };
  else if (config.schemaSource === "register") {
    const schemaType = config.schemaType === "PROTOBUF" || config.schemaType === "JSON" ? config.schemaType : "AVRO";
    const schema = config.schemaText?.trim() ?? "";
    if (!schema) throw new Error("registering a schema needs the schema");
    use = { register: { schemaType, schema, references: [] } };
  } else use = { latest: true };
  if (strategy !== "topic" && !recordName && !("register" in use)) throw new Error(`the ${strategy} subject strategy needs the record name`);
  return { strategy, recordName, use };
}
