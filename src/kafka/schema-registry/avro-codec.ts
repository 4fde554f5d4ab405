import * as avro from "avsc";
import { SchemaMismatchError, type ResolvedSchema, type SchemaCodec } from "./schema-codec";

/**
 * Avro's decimal as a string of its exact value ("12345.67"): JavaScript numbers would
 * round it. The other logical types keep avsc's plain values: timestamp-millis and
 * -micros and time-* as numbers, date as days since 1970-01-01, uuid as a string.
 */
class DecimalAsString extends avro.types.LogicalType {
  private readonly scale: number;
  private readonly size: number | undefined;

  constructor(schema: avro.Schema, options?: unknown) {
    super(schema, options);
    const attributes = schema as { scale?: number; size?: number };
    this.scale = attributes.scale ?? 0;
    this.size = this.underlyingType instanceof avro.types.FixedType ? attributes.size : undefined;
  }

  protected override _fromValue(bytes: Buffer): string {
    let unscaled = 0n;
    for (const byte of bytes) unscaled = (unscaled << 8n) | BigInt(byte);
    if (bytes.length > 0 && bytes[0] & 0x80) unscaled -= 1n << BigInt(bytes.length * 8); // two's complement
    const negative = unscaled < 0n;
    const digits = (negative ? -unscaled : unscaled).toString().padStart(this.scale + 1, "0");
    const whole = digits.slice(0, digits.length - this.scale);
    const fraction = this.scale > 0 ? `.${digits.slice(digits.length - this.scale)}` : "";
    return `${negative ? "-" : ""}${whole}${fraction}`;
  }

  protected override _toValue(value: unknown): Buffer {
    const text = typeof value === "number" ? value.toFixed(this.scale) : String(value);
    const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text.trim());
    if (!match || (match[3] ?? "").length > this.scale) throw new Error(`${JSON.stringify(value)} is not a decimal of scale ${this.scale}`);
    let unscaled = BigInt(match[2] + (match[3] ?? "").padEnd(this.scale, "0"));
    if (match[1]) unscaled = -unscaled;
    const bytes: number[] = [];
    // big-endian two's complement, as short as the value allows (or the fixed size)
    for (let rest = unscaled; ; rest >>= 8n) {
      bytes.unshift(Number(rest & 0xffn));
      const done = (rest >> 8n === 0n && (bytes[0] & 0x80) === 0) || (rest >> 8n === -1n && (bytes[0] & 0x80) !== 0);
      if (done && (this.size === undefined || bytes.length >= this.size)) break;
      if (this.size !== undefined && bytes.length >= this.size) throw new Error(`${text} does not fit ${this.size} bytes`);
    }
    return Buffer.from(bytes);
  }

  protected override _resolve(type: avro.Type): ((value: unknown) => unknown) | undefined {
    if (avro.Type.isType(type, "logical:decimal")) return (value) => value;
    return undefined;
  }
}

const LOGICAL_TYPES = { decimal: DecimalAsString };

/** An Avro schema (with the named types it references) as avsc reads and writes it. */
export function avroCodec(resolved: ResolvedSchema): SchemaCodec {
  // a registry of its own: named types must not leak between schemas
  const registry: Record<string, avro.Type> = {};
  for (const reference of resolved.references) avro.Type.forSchema(JSON.parse(reference.schema.schema) as avro.Schema, { registry, logicalTypes: LOGICAL_TYPES });
  const type = avro.Type.forSchema(JSON.parse(resolved.schema.schema) as avro.Schema, { registry, logicalTypes: LOGICAL_TYPES });
  return {
    type: "AVRO",
    recordName: type.name,
    decode: (body) => type.fromBuffer(body),
    encode: (value) => {
      const problems: string[] = [];
      if (!type.isValid(value, { errorHook: (path, wrong) => problems.push(`${path.join(".") || "the record"}: ${JSON.stringify(wrong) ?? String(wrong)}`) })) {
        throw new SchemaMismatchError(`the value does not fit the Avro schema ${type.name ?? ""}: ${problems.slice(0, 3).join("; ")}`);
      }
      return type.toBuffer(value);
    },
  };
}
