import * as fs from "node:fs";
import type { ConnectionOptions } from "node:tls";
import type { SASLOptions } from "kafkajs";
import { OAuthTokenSource, type OAuthSettings } from "./oauth-tokens";

export type SaslMechanism = "none" | "plain" | "scram-sha-256" | "scram-sha-512" | "oauthbearer";

export const SASL_MECHANISMS: readonly SaslMechanism[] = ["none", "plain", "scram-sha-256", "scram-sha-512", "oauthbearer"];

/** A PEM text pasted into the dialog, or the path of a file holding it; pasted text wins. */
export interface PemSource {
  pasted?: string;
  file?: string;
}

/** How a kafka-broker config node secures its connection. */
export interface SecurityConfig {
  tls: boolean;
  /** Verify the broker's certificate and host name (on unless turned off). */
  tlsVerify: boolean;
  ca: PemSource;
  cert: PemSource;
  key: PemSource;
  passphrase?: string;
  sasl: SaslMechanism;
  username?: string;
  password?: string;
  /** For OAUTHBEARER: the client-credentials grant that gives the tokens. */
  oauth?: OAuthSettings;
  /** For OAUTHBEARER: SASL extensions sent with the token, "name=value,name=value". */
  oauthExtensions?: string;
}

/** How OAUTHBEARER clients get their tokens: one source per kafka-broker node, shared by its clients. */
export interface OAuthBearer {
  tokens: OAuthTokenSource;
  extensions: Record<string, string>;
}

/** The security part of the kafkajs client options. */
export interface SecurityOptions {
  ssl?: ConnectionOptions;
  sasl?: SASLOptions;
  /** Set for OAUTHBEARER; `sasl` then holds kafkajs's provider over the same tokens. */
  oauthBearer?: OAuthBearer;
}

/** A setting that cannot work; the message says which and why. */
export class SecurityConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SecurityConfigError";
  }
}

type ReadFile = (file: string) => string;

const readUtf8: ReadFile = (file) => fs.readFileSync(file, "utf8");

function readPem(source: PemSource, what: string, readFile: ReadFile): string | undefined {
  const pasted = source.pasted?.trim();
  if (pasted) return pasted;
  const file = source.file?.trim();
  if (!file) return undefined;
  let text: string;
  try {
    text = readFile(file);
  } catch (error) {
    throw new SecurityConfigError(`cannot read the ${what} file ${file}: ${(error as Error).message}`);
  }
  if (!text.includes("-----BEGIN")) throw new SecurityConfigError(`the ${what} file ${file} holds no PEM block (-----BEGIN ...)`);
  return text;
}

function tlsOptions(config: SecurityConfig, readFile: ReadFile): ConnectionOptions {
  const ca = readPem(config.ca, "CA certificate", readFile);
  const cert = readPem(config.cert, "client certificate", readFile);
  const key = readPem(config.key, "client key", readFile);
  if (Boolean(cert) !== Boolean(key)) {
    throw new SecurityConfigError("a client certificate needs its private key, and a key its certificate: give both or neither");
  }
  const options: ConnectionOptions = { rejectUnauthorized: config.tlsVerify };
  if (ca) options.ca = [ca];
  if (cert && key) Object.assign(options, { cert, key });
  if (key && config.passphrase) options.passphrase = config.passphrase;
  return options;
}

/** "a=1, b=2" → { a: "1", b: "2" }, as librdkafka's sasl.oauthbearer.extensions reads them. */
export function parseExtensions(text: string | undefined): Record<string, string> {
  const extensions: Record<string, string> = {};
  for (const pair of (text ?? "").split(",").map((part) => part.trim()).filter(Boolean)) {
    const equals = pair.indexOf("=");
    if (equals <= 0) throw new SecurityConfigError(`the SASL extension "${pair}" is not name=value`);
    extensions[pair.slice(0, equals).trim()] = pair.slice(equals + 1).trim();
  }
  return extensions;
}

function oauthBearer(config: SecurityConfig): OAuthBearer {
  if (!config.oauth) throw new SecurityConfigError("SASL OAUTHBEARER needs a token endpoint URL, a client id and a client secret");
  try {
    return { tokens: new OAuthTokenSource(config.oauth), extensions: parseExtensions(config.oauthExtensions) };
  } catch (error) {
    if (error instanceof SecurityConfigError) throw error;
    throw new SecurityConfigError((error as Error).message);
  }
}

function saslOptions(config: SecurityConfig): SASLOptions | undefined {
  if (config.sasl === "none" || config.sasl === "oauthbearer") return undefined;
  if (!SASL_MECHANISMS.includes(config.sasl)) throw new SecurityConfigError(`unknown SASL mechanism "${String(config.sasl)}"`);
  const username = config.username ?? "";
  const password = config.password ?? "";
  if (!username || !password) throw new SecurityConfigError(`SASL ${config.sasl.toUpperCase()} needs a username and a password`);
  return { mechanism: config.sasl, username, password } as SASLOptions;
}

/** Checks a security configuration and turns it into kafkajs options; throws SecurityConfigError. */
export function securityOptions(config: SecurityConfig, readFile: ReadFile = readUtf8): SecurityOptions {
  const options: SecurityOptions = {};
  if (config.tls) options.ssl = tlsOptions(config, readFile);
  const sasl = saslOptions(config);
  if (sasl) options.sasl = sasl;
  if (config.sasl === "oauthbearer") {
    const bearer = oauthBearer(config);
    options.oauthBearer = bearer;
    options.sasl = {
      mechanism: "oauthbearer",
      oauthBearerProvider: async () => ({ value: (await bearer.tokens.token()).value, ...(Object.keys(bearer.extensions).length > 0 ? { extensions: bearer.extensions } : {}) }),
    } as SASLOptions;
  }
  return options;
}
