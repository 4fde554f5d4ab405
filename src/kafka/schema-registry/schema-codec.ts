import type { Schema, SchemaType } from "./registry-client";

/** Encodes and decodes the body of a record (after the wire format's header) in one schema. */
export interface SchemaCodec {
  readonly type: SchemaType;
  /** The schema's full record or message name (Avro, Protobuf), for the record-name subject strategies. */
  readonly recordName?: string;
  /** Protobuf: the message indexes written before each record's message (which message of the schema it is). */
  readonly messageIndexes?: number[];
  decode(body: Buffer): unknown;
  /** Throws a SchemaMismatchError naming the field when the value does not fit the schema. */
  encode(value: unknown): Buffer;
}

/** A value that does not fit the schema it is to be written in. */
export class SchemaMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SchemaMismatchError";
  }
}

/** A schema with the schemas it references, each listed once, referenced ones first. */
export interface ResolvedSchema {
  schema: Schema;
  /** The referenced schemas, by the name the referencing schema uses for them. */
  references: { name: string; schema: Schema }[];
}
