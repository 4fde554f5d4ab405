/**
 * Confluent's wire format for records whose schema lives in a Schema Registry: a magic
 * byte 0, the schema id as a 4-byte big-endian integer, then the encoded record. A
 * Protobuf record has, between the id and the message, the message indexes that say
 * which message of the schema it is: a zigzag varint count then each index, with the
 * one-byte 0 standing for [0], the schema's first message.
 */

export class NotWireFormatError extends Error {
  constructor(detail: string) {
    super(`not a Schema Registry record (${detail})`);
    this.name = "NotWireFormatError";
  }
}

const MAGIC = 0;
const HEADER_BYTES = 5;

/** The schema id and the bytes after the header. */
export function readFrame(value: Buffer | null): { id: number; body: Buffer } {
  if (value === null) throw new NotWireFormatError("a tombstone: the record has no value");
  if (value.length < HEADER_BYTES) throw new NotWireFormatError(`${value.length} bytes, fewer than the 5 of the header`);
  if (value[0] !== MAGIC) throw new NotWireFormatError(`its first byte is ${value[0]}, not the magic byte 0`);
  return { id: value.readInt32BE(1), body: value.subarray(HEADER_BYTES) };
}

export function writeFrame(id: number, body: Buffer, messageIndexes?: number[]): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header[0] = MAGIC;
  header.writeInt32BE(id, 1);
  return Buffer.concat(messageIndexes ? [header, writeMessageIndexes(messageIndexes), body] : [header, body]);
}

/** The message indexes at the start of a Protobuf record's body, and the message's bytes after them. */
export function readMessageIndexes(body: Buffer): { indexes: number[]; message: Buffer } {
  let offset = 0;
  const next = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (offset >= body.length) throw new NotWireFormatError("its Protobuf message indexes run past its end");
      const byte = body[offset++];
      result |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) break;
      shift += 7;
      if (shift > 28) throw new NotWireFormatError("a Protobuf message index is longer than 5 bytes");
    }
    return (result >>> 1) ^ -(result & 1); // zigzag
  };
  const count = next();
  if (count < 0 || count > body.length) throw new NotWireFormatError(`it claims ${count} Protobuf message indexes`);
  const indexes = count === 0 ? [0] : Array.from({ length: count }, next);
  return { indexes, message: body.subarray(offset) };
}

function writeMessageIndexes(indexes: number[]): Buffer {
  if (indexes.length === 1 && indexes[0] === 0) return Buffer.from([0]);
  const bytes: number[] = [];
  const write = (value: number): void => {
    let zigzag = ((value << 1) ^ (value >> 31)) >>> 0;
    while (zigzag > 0x7f) {
      bytes.push((zigzag & 0x7f) | 0x80);
      zigzag >>>= 7;
    }
    bytes.push(zigzag);
  };
  write(indexes.length);
  indexes.forEach(write);
  return Buffer.from(bytes);
}
