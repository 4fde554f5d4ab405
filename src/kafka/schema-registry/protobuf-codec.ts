import * as protobuf from "protobufjs";
import * as descriptor from "protobufjs/ext/descriptor";
import { SchemaMismatchError, type ResolvedSchema, type SchemaCodec } from "./schema-codec";
import { NotWireFormatError, readMessageIndexes } from "./wire-format";

/**
 * How decoded Protobuf messages become plain values: 64-bit integers as decimal strings
 * (JavaScript numbers would round them), enums by name, bytes as Buffers, and every field
 * present, a proto3 field left at its default included.
 */
const TO_OBJECT: protobuf.IConversionOptions = { longs: String, enums: String, defaults: true, arrays: true, objects: true };

/**
 * A registry holds a Protobuf schema as .proto text, or (as Confluent's own Python and
 * Java serializers register it) as a base64 FileDescriptorProto.
 */
function isProtoText(schema: string): boolean {
  return /\b(syntax|message|package|edition)\b/.test(schema);
}

/** Well-known types (google/protobuf/timestamp.proto ...) a file imports without the registry naming them as references. */
function wellKnownTypes(root: protobuf.Root, imports: string[]): void {
  for (const name of imports) {
    const common = protobuf.common.get(name);
    if (common?.nested) root.addJSON(common.nested);
  }
}

/** The root of every type, and the full names of the main file's top-level messages in declaration order. */
function fromText(resolved: ResolvedSchema): { root: protobuf.Root; topLevel: string[] } {
  const root = new protobuf.Root();
  const files = [...resolved.references.map((reference) => reference.schema.schema), resolved.schema.schema];
  for (const text of files) {
    const parsed = protobuf.parse(text, new protobuf.Root(), { keepCase: true });
    wellKnownTypes(root, [...(parsed.imports ?? []), ...(parsed.weakImports ?? [])]);
  }
  let topLevel: string[] = [];
  files.forEach((text, index) => {
    const parsed = protobuf.parse(text, root, { keepCase: true });
    if (index < files.length - 1) return;
    // the main file alone: which messages are its own, in their order
    const alone = protobuf.parse(text, new protobuf.Root(), { keepCase: true });
    const namespace = parsed.package ? alone.root.lookup(parsed.package) : alone.root;
    topLevel = ((namespace as protobuf.Namespace | null)?.nestedArray ?? []).filter((item) => item instanceof protobuf.Type).map((type) => type.fullName.slice(1));
  });
  root.resolveAll();
  return { root, topLevel };
}

function fromDescriptors(resolved: ResolvedSchema): { root: protobuf.Root; topLevel: string[] } {
  const files = [...resolved.references.map((reference) => reference.schema.schema), resolved.schema.schema].map((text) =>
    descriptor.FileDescriptorProto.decode(Buffer.from(text, "base64")) as unknown as descriptor.IFileDescriptorProto,
  );
  const wellKnown = new protobuf.Root();
  wellKnownTypes(
    wellKnown,
    files.flatMap((file) => file.dependency ?? []),
  );
  const known = (wellKnown.nestedArray.length > 0 ? wellKnown.toDescriptor("proto3").file : []) as descriptor.IFileDescriptorProto[];
  const root = protobuf.Root.fromDescriptor({ file: [...known, ...files] }, { keepCase: true });
  root.resolveAll();
  const main = files[files.length - 1];
  const prefix = main.package ? `${main.package}.` : "";
  return { root, topLevel: (main.messageType ?? []).map((message: descriptor.IDescriptorProto) => `${prefix}${message.name}`) };
}

/** The message type the indexes name: the main file's top-level message, then nested ones. */
function typeAt(root: protobuf.Root, topLevel: string[], indexes: number[]): protobuf.Type {
  const [first, ...nested] = indexes;
  if (topLevel[first] === undefined) throw new NotWireFormatError(`message index ${first}, and the schema has ${topLevel.length} top-level messages`);
  let type = root.lookupType(topLevel[first]);
  for (const index of nested) {
    const inner = type.nestedArray.filter((item) => item instanceof protobuf.Type);
    if (!inner[index]) throw new NotWireFormatError(`nested message index ${index} in ${type.fullName.slice(1)}`);
    type = inner[index];
  }
  return type;
}

/**
 * A Protobuf schema as protobufjs reads and writes it. A record names its message by the
 * message indexes of the wire format; records are written as the schema's first
 * message, or the one `messageName` names.
 */
export function protobufCodec(resolved: ResolvedSchema, messageName?: string): SchemaCodec & { messageIndexes: number[] } {
  const { root, topLevel } = isProtoText(resolved.schema.schema) ? fromText(resolved) : fromDescriptors(resolved);
  if (topLevel.length === 0) throw new Error("the Protobuf schema defines no message");
  const writtenIndex = messageName ? topLevel.findIndex((name) => name === messageName || name.endsWith(`.${messageName}`)) : 0;
  if (writtenIndex < 0) throw new Error(`the Protobuf schema has no top-level message ${messageName} (it has ${topLevel.join(", ")})`);
  const written = root.lookupType(topLevel[writtenIndex]);
  return {
    type: "PROTOBUF",
    recordName: topLevel[writtenIndex],
    messageIndexes: [writtenIndex],
    decode: (body) => {
      const { indexes, message } = readMessageIndexes(body);
      const type = typeAt(root, topLevel, indexes);
      return type.toObject(type.decode(message), TO_OBJECT);
    },
    encode: (value) => {
      const mismatch = (problem: string): SchemaMismatchError => new SchemaMismatchError(`the value does not fit the Protobuf message ${topLevel[writtenIndex]}: ${problem}`);
      if (typeof value !== "object" || value === null || Array.isArray(value)) throw mismatch("not an object");
      let message: protobuf.Message;
      try {
        // converts what it can (numbers given as strings, enum names), throws naming the field it cannot
        message = written.fromObject(value as Record<string, unknown>);
      } catch (error) {
        throw mismatch((error as Error).message.replace(/^\./, ""));
      }
      const problem = written.verify(message);
      if (problem) throw mismatch(problem);
      return Buffer.from(written.encode(message).finish());
    },
  };
}
