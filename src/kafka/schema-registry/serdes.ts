import { avroCodec } from "./avro-codec";
import { jsonSchemaCodec } from "./json-schema-codec";
import { protobufCodec } from "./protobuf-codec";
import { RegistryRefusalError, type RegistryClient, type Schema, type SchemaType } from "./registry-client";
import type { ResolvedSchema, SchemaCodec } from "./schema-codec";
import { readFrame, writeFrame } from "./wire-format";

/** What kafka-in puts in msg.kafka.schema. */
export interface SchemaInfo {
  id: number;
  type: SchemaType;
}

/** A record whose schema id the registry does not know, or whose schema cannot be read. */
export class UnknownSchemaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnknownSchemaError";
  }
}

/** `messageName`: Protobuf, the message to write (else the schema's first). */
const CODECS: Record<SchemaType, (resolved: ResolvedSchema, messageName?: string) => SchemaCodec> = {
  AVRO: avroCodec,
  JSON: jsonSchemaCodec,
  PROTOBUF: protobufCodec,
};

/** A schema with every schema it references, depth first (a referenced schema before those that use it), each once. */
async function resolve(client: RegistryClient, schema: Schema): Promise<ResolvedSchema> {
  const references: ResolvedSchema["references"] = [];
  const seen = new Set<string>();
  const visit = async (current: Schema): Promise<void> => {
    for (const reference of current.references) {
      const key = `${reference.subject}/${reference.version}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const referenced = await client.version(reference.subject, reference.version);
      await visit(referenced);
      references.push({ name: reference.name, schema: referenced });
    }
  };
  await visit(schema);
  return { schema, references };
}

function codecFor(resolved: ResolvedSchema, id: number, messageName?: string): SchemaCodec {
  const make = CODECS[resolved.schema.schemaType] as (typeof CODECS)[SchemaType] | undefined;
  if (!make) throw new UnknownSchemaError(`schema ${id} is of type ${resolved.schema.schemaType}, which is not read (Avro, Protobuf and JSON Schema are)`);
  try {
    return make(resolved, messageName);
  } catch (error) {
    throw new UnknownSchemaError(`schema ${id} cannot be read: ${(error as Error).message}`);
  }
}

/**
 * Reads records in the registry's wire format. The registry is asked only in prepare(),
 * once per schema id, for a batch's new ids all at once; decode() is then synchronous.
 * A registry that does not answer fails prepare() (RegistryUnavailableError): the batch
 * waits and is tried again, rather than failing good records. An id the registry does
 * not know fails only the records that carry it.
 */
export class SchemaDecoder {
  private readonly codecs = new Map<number, SchemaCodec>();
  private readonly unknown = new Map<number, UnknownSchemaError>();

  constructor(private readonly client: RegistryClient) {}

  async prepare(values: (Buffer | null)[]): Promise<void> {
    const ids = new Set<number>();
    for (const value of values) {
      try {
        const { id } = readFrame(value);
        if (!this.codecs.has(id) && !this.unknown.has(id)) ids.add(id);
      } catch {
        // not the wire format: decode() says so for that record
      }
    }
    await Promise.all([...ids].map((id) => this.load(id)));
  }

  /** The record's value as a plain value, and which schema it was written in; throws for a record that cannot be read. */
  decode(value: Buffer | null): { payload: unknown; schema: SchemaInfo } {
    const { id, body } = readFrame(value);
    const codec = this.codecs.get(id);
    if (!codec) throw this.unknown.get(id) ?? new UnknownSchemaError(`schema ${id} was not looked up`);
    return { payload: codec.decode(body), schema: { id, type: codec.type } };
  }

  private async load(id: number): Promise<void> {
    try {
      const schema = await this.client.schemaById(id);
      this.codecs.set(id, codecFor(await resolve(this.client, schema), id));
    } catch (error) {
      if (error instanceof UnknownSchemaError) this.unknown.set(id, error);
      else if (error instanceof RegistryRefusalError && error.status === 404) this.unknown.set(id, new UnknownSchemaError(`the schema registry has no schema ${id}`));
      else throw error;
    }
  }
}

/** How kafka-out names the subject whose schema it writes in (Confluent's subject name strategies). */
export type SubjectStrategy = "topic" | "record" | "topic-record";

export interface EncoderSettings {
  strategy: SubjectStrategy;
  /** The record's full name, for the record strategies (else the name in the schema to register); for Protobuf also the message written (else the schema's first). */
  recordName?: string;
  /** Which version of the subject: its latest (re-read every `latestTtlMs`), a version, a schema id, or a schema to register. */
  use: { latest: true } | { version: number } | { id: number } | { register: Schema };
  /** Keys are in subjects "<topic>-key", values in "<topic>-value". */
  isKey?: boolean;
}

const LATEST_TTL_MS = 60_000;

/**
 * Writes records in the registry's wire format, in the schema the settings choose for
 * each topic. prepare(topic) asks the registry (once per topic, the latest again after a
 * minute); encode() is then synchronous and throws a SchemaMismatchError that names the
 * field when a value does not fit.
 */
export class SchemaEncoder {
  private readonly byTopic = new Map<string, { id: number; codec: SchemaCodec; at: number }>();
  /** Lookups under way, by topic: the records that arrive meanwhile wait for the same one. */
  private readonly pending = new Map<string, Promise<void>>();

  constructor(
    private readonly client: RegistryClient,
    private readonly settings: EncoderSettings,
  ) {}

  subject(topic: string): string {
    const { strategy, recordName, use, isKey } = this.settings;
    if (strategy === "topic") return `${topic}-${isKey ? "key" : "value"}`;
    const name = recordName || ("register" in use ? codecFor({ schema: use.register, references: [] }, 0).recordName : undefined);
    if (!name) throw new Error(`the ${strategy} subject strategy needs the record's name`);
    return strategy === "record" ? name : `${topic}-${name}`;
  }

  prepare(topic: string): Promise<void> {
    const known = this.byTopic.get(topic);
    if (known && !("latest" in this.settings.use && Date.now() - known.at > LATEST_TTL_MS)) return Promise.resolve();
    let pending = this.pending.get(topic);
    if (!pending) {
      pending = this.lookUp(topic).finally(() => this.pending.delete(topic));
      this.pending.set(topic, pending);
    }
    return pending;
  }

  private async lookUp(topic: string): Promise<void> {
    const { use } = this.settings;
    let id: number;
    let schema: Schema;
    if ("id" in use) {
      id = use.id;
      schema = await this.client.schemaById(id);
    } else if ("register" in use) {
      schema = use.register;
      id = await this.client.register(this.subject(topic), schema);
    } else {
      const found = await this.client.version(this.subject(topic), "latest" in use ? "latest" : use.version);
      id = found.id;
      schema = found;
    }
    this.byTopic.set(topic, { id, codec: codecFor(await resolve(this.client, schema), id, this.settings.recordName), at: Date.now() });
  }

  encode(topic: string, value: unknown): Buffer {
    const known = this.byTopic.get(topic);
    if (!known) throw new Error(`no schema was prepared for ${topic}`);
    return writeFrame(known.id, known.codec.encode(value), known.codec.messageIndexes);
  }
}
