import * as assert from "node:assert/strict";
import { avroCodec } from "../../src/kafka/schema-registry/avro-codec";
import { SchemaMismatchError } from "../../src/kafka/schema-registry/schema-codec";
import { NotWireFormatError, readFrame, readMessageIndexes, writeFrame } from "../../src/kafka/schema-registry/wire-format";

describe("Schema Registry wire format", () => {
  it("frames a body with the magic byte and the big-endian schema id, and reads it back", () => {
    const framed = writeFrame(258, Buffer.from("body"));
    assert.deepEqual([...framed.subarray(0, 5)], [0, 0, 0, 1, 2]);
    assert.deepEqual(readFrame(framed), { id: 258, body: Buffer.from("body") });
  });

  it("writes Protobuf message indexes as Confluent does: [0] as one zero byte, others as zigzag varints, and reads them back", () => {
    assert.deepEqual([...writeFrame(1, Buffer.alloc(0), [0]).subarray(5)], [0]);
    assert.deepEqual([...writeFrame(1, Buffer.alloc(0), [1]).subarray(5)], [2, 2]);
    for (const indexes of [[0], [1], [2, 0, 5], [70]]) {
      const { body } = readFrame(writeFrame(7, Buffer.from([0xaa]), indexes));
      assert.deepEqual(readMessageIndexes(body), { indexes, message: Buffer.from([0xaa]) });
    }
  });

  it("says why bytes are not a registry record", () => {
    assert.throws(() => readFrame(Buffer.from("{}")), (error: Error) => error instanceof NotWireFormatError && /2 bytes, fewer than the 5 of the header/.test(error.message));
    assert.throws(() => readFrame(Buffer.from('{"a":1}')), /its first byte is 123, not the magic byte 0/);
    assert.throws(() => readFrame(null), /a tombstone/);
    assert.throws(() => readMessageIndexes(Buffer.from([0x80])), /run past its end/);
  });
});

describe("Avro codec", () => {
  const codec = (fields: object[]) => avroCodec({ schema: { schemaType: "AVRO", schema: JSON.stringify({ type: "record", name: "R", fields }), references: [] }, references: [] });

  it("gives a decimal as the exact string of its value, both ways, for bytes and fixed, negative and zero", () => {
    const bytes = codec([{ name: "d", type: { type: "bytes", logicalType: "decimal", precision: 20, scale: 3 } }]);
    const fixed = codec([{ name: "d", type: { type: "fixed", name: "F", size: 8, logicalType: "decimal", precision: 18, scale: 2 } }]);
    for (const value of ["0.000", "1.500", "-1.500", "123456789012345.678", "-0.001"]) {
      assert.equal((bytes.decode(bytes.encode({ d: value })) as { d: string }).d, value);
    }
    for (const value of ["0.00", "-128.00", "92233720368547758.07"]) {
      assert.equal((fixed.decode(fixed.encode({ d: value })) as { d: string }).d, value);
    }
    assert.equal((bytes.decode(bytes.encode({ d: 2.5 })) as { d: string }).d, "2.500");
  });

  it("refuses a value that does not fit, naming the field and the value", () => {
    const measurement = codec([{ name: "length", type: "double" }, { name: "species", type: "string" }]);
    assert.throws(() => measurement.encode({ length: "long", species: "setosa" }), (error: Error) => error instanceof SchemaMismatchError && /length: "long"/.test(error.message));
  });
});
