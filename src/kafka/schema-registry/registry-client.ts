import * as http from "node:http";
import * as https from "node:https";
import { OAuthTokenError, type OAuthTokenSource } from "../oauth-tokens";

export type SchemaType = "AVRO" | "PROTOBUF" | "JSON";

export interface SchemaReference {
  name: string;
  subject: string;
  version: number;
}

export interface Schema {
  schemaType: SchemaType;
  schema: string;
  references: SchemaReference[];
}

/** A schema as the registry holds it; subject and version when it was looked up under a subject. */
export interface RegisteredSchema extends Schema {
  id: number;
  subject?: string;
  version?: number;
}

export interface RegistrySettings {
  /** Base URLs of the registry's Confluent API (e.g. http://127.0.0.1:8081, or Apicurio's .../apis/ccompat/v7), tried in turn. */
  urls: string[];
  username?: string;
  password?: string;
  /** A fixed bearer token. */
  token?: string;
  /** Bearer tokens from an OAuth 2 client (Confluent Cloud's registry, a registry behind Keycloak). */
  tokens?: OAuthTokenSource;
  /** Headers sent with every request (Confluent Cloud's `target-sr-cluster`, `Confluent-Identity-Pool-Id`). */
  headers?: Record<string, string>;
  /** PEM of the CA that signed the registry's certificate, when it is not a public one. */
  ca?: string;
  timeoutMs?: number;
}

/** The registry answered that what was asked for does not exist, or refused it: asking again gives the same answer. */
export class RegistryRefusalError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly errorCode?: number,
  ) {
    super(message);
    this.name = "RegistryRefusalError";
  }
}

/**
 * No registry answered, it failed (5xx), or it refused the credentials (401, 403): worth
 * trying again later; not the record's fault, so records wait rather than fail.
 */
export class RegistryUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RegistryUnavailableError";
  }
}

const TIMEOUT_MS = 10_000;

/**
 * A client of the Confluent Schema Registry REST API: schemas by id (cached for good:
 * an id's schema never changes; concurrent lookups of one id share a request), the
 * versions of a subject, and registration.
 */
export class RegistryClient {
  private readonly byId = new Map<number, Promise<Schema>>();

  constructor(private readonly settings: RegistrySettings) {
    if (settings.urls.length === 0) throw new Error("the schema registry has no URL");
  }

  schemaById(id: number): Promise<Schema> {
    let pending = this.byId.get(id);
    if (!pending) {
      pending = this.get<{ schemaType?: SchemaType; schema: string; references?: SchemaReference[] }>(`/schemas/ids/${id}`).then((answer) => ({
        schemaType: answer.schemaType ?? "AVRO",
        schema: answer.schema,
        references: answer.references ?? [],
      }));
      this.byId.set(id, pending);
      // a failure is not kept: the next lookup asks again
      pending.catch(() => this.byId.delete(id));
    }
    return pending;
  }

  /** A subject's version ("latest" or a number). */
  async version(subject: string, version: number | "latest"): Promise<RegisteredSchema> {
    const answer = await this.get<{ id: number; subject: string; version: number; schemaType?: SchemaType; schema: string; references?: SchemaReference[] }>(
      `/subjects/${encodeURIComponent(subject)}/versions/${version}`,
    );
    const schema = { schemaType: answer.schemaType ?? "AVRO", schema: answer.schema, references: answer.references ?? [] };
    this.byId.set(answer.id, Promise.resolve(schema));
    return { ...schema, id: answer.id, subject: answer.subject, version: answer.version };
  }

  /** Registers a schema under a subject (the registry gives back the id it already has for the same schema). */
  async register(subject: string, schema: Schema): Promise<number> {
    const body = { schemaType: schema.schemaType, schema: schema.schema, references: schema.references };
    const { id } = await this.request<{ id: number }>("POST", `/subjects/${encodeURIComponent(subject)}/versions`, body);
    this.byId.set(id, Promise.resolve(schema));
    return id;
  }

  /** The subjects the registry holds: what the dialog's connection test asks. */
  subjects(): Promise<string[]> {
    return this.get<string[]>("/subjects");
  }

  private get<T>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }

  /** Tries each URL in turn while none answers; an answer (even a refusal) ends it. */
  private async request<T>(method: string, path: string, body?: object): Promise<T> {
    const failures: string[] = [];
    for (const base of this.settings.urls) {
      try {
        return await this.requestOne<T>(method, new URL(base.replace(/\/+$/, "") + path), body);
      } catch (error) {
        // an answer (a refusal, credentials refused) or no token to ask with: the next URL would say the same
        if (error instanceof RegistryRefusalError || error instanceof RegistryUnavailableError) throw error;
        failures.push(`${base}: ${(error as Error).message}`);
      }
    }
    throw new RegistryUnavailableError(`the schema registry did not answer (${failures.join("; ")})`);
  }

  private async authorization(): Promise<string | undefined> {
    const { username, password, token, tokens } = this.settings;
    if (tokens) {
      try {
        return `Bearer ${(await tokens.token()).value}`;
      } catch (error) {
        if (error instanceof OAuthTokenError) throw new RegistryUnavailableError(`no OAuth token for the schema registry: ${error.message}`);
        throw error;
      }
    }
    if (token) return `Bearer ${token}`;
    if (username) return `Basic ${Buffer.from(`${username}:${password ?? ""}`).toString("base64")}`;
    return undefined;
  }

  private async requestOne<T>(method: string, url: URL, body?: object): Promise<T> {
    const { ca } = this.settings;
    const headers: Record<string, string> = { ...this.settings.headers, Accept: "application/vnd.schemaregistry.v1+json, application/json" };
    const authorization = await this.authorization();
    if (authorization) headers.Authorization = authorization;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) headers["Content-Type"] = "application/vnd.schemaregistry.v1+json";
    const transport = url.protocol === "https:" ? https : http;
    return new Promise((resolve, reject) => {
      const request = transport.request(url, { method, headers, ca: ca || undefined, timeout: this.settings.timeoutMs ?? TIMEOUT_MS }, (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", reject);
        response.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          const status = response.statusCode ?? 0;
          let parsed: { message?: string; error_code?: number } | undefined;
          try {
            parsed = JSON.parse(text) as typeof parsed;
          } catch {
            parsed = undefined;
          }
          if (status >= 500) return reject(new Error(`HTTP ${status}${parsed?.message ? `: ${parsed.message}` : ""}`));
          if (status === 401 || status === 403) {
            // a token it no longer takes is replaced at the next request
            if (status === 401) this.settings.tokens?.forget();
            const reason = parsed?.message ?? (text.trim().slice(0, 200) || response.statusMessage);
            return reject(new RegistryUnavailableError(`the schema registry refused the credentials (${status}${reason ? `: ${reason}` : ""})`));
          }
          if (status >= 300) {
            const reason = parsed?.message ?? (text.trim().slice(0, 200) || response.statusMessage);
            return reject(new RegistryRefusalError(`the schema registry answered ${method} ${url.pathname} with ${status}: ${reason}`, status, parsed?.error_code));
          }
          if (parsed === undefined) return reject(new Error(`HTTP ${status} with a body that is not JSON`));
          resolve(parsed as T);
        });
      });
      request.on("timeout", () => request.destroy(new Error(`no answer within ${this.settings.timeoutMs ?? TIMEOUT_MS} ms`)));
      request.on("error", reject);
      request.end(payload);
    });
  }
}
