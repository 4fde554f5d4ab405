import * as assert from "node:assert/strict";
import { createRequire } from "node:module";
import { CompressionCodecs, CompressionTypes } from "kafkajs";
import * as sinon from "sinon";
import { MissingCodecError, compressionProblem, kafkajsCompression, registerCodecs, type CompressionSetting } from "../../src/kafka/engines/kafkajs/codecs";
import { KafkajsEngine } from "../../src/kafka/engines/kafkajs";
import { BatchingProducer } from "../../src/kafka/engines/kafkajs/batching-producer";
import { registerSettler } from "../../src/kafka/settlement";
import { catchNode, helper, kafkaBroker, kafkaOut, loggedBy, statusFill, statusOf } from "../support/node-red-helper";

const load = createRequire(__filename);

/** The package loader as it is where zstd-napi failed to build (an optional dependency). */
function withoutZstd(packageName: string): unknown {
  if (packageName === "zstd-napi") throw new Error("Cannot find module 'zstd-napi'\nRequire stack:\n- /somewhere/codecs.js");
  return load(packageName);
}

interface KafkajsCodec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

function kafkajsCodec(type: CompressionTypes.Snappy | CompressionTypes.LZ4 | CompressionTypes.ZSTD): KafkajsCodec {
  return (CompressionCodecs[type] as () => KafkajsCodec)();
}

/** Compressible, with every byte value in it. */
const DATA = Buffer.concat(Array.from({ length: 8 }, () => Buffer.from(Array.from({ length: 256 }, (_, index) => index))));

describe("compression codecs for kafkajs", () => {
  it("maps each kafka-out setting to Kafka's codec number, which kafkajs writes into the batch attributes", () => {
    // the numbers of Kafka's protocol (record batch attributes, bits 0-2)
    const expected: Record<CompressionSetting, number> = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 };
    for (const [setting, number] of Object.entries(expected)) assert.equal(kafkajsCompression(setting as CompressionSetting), number, setting);
    assert.equal(kafkajsCompression(undefined), 0, "a flow made before the setting existed writes uncompressed");
  });

  it("registers snappy, lz4 and zstd with kafkajs: each gives back the bytes it was given, lz4 and zstd in their frame formats", async () => {
    for (const type of [CompressionTypes.Snappy, CompressionTypes.LZ4, CompressionTypes.ZSTD] as const) {
      const codec = kafkajsCodec(type);
      const compressed = await codec.compress({ buffer: DATA });
      assert.ok(compressed.length < DATA.length, `codec ${type} compresses`);
      assert.ok((await codec.decompress(compressed)).equals(DATA), `codec ${type} gives back every byte`);
    }
    // Kafka reads an LZ4 frame (magic 0x184D2204) and a zstd frame (magic 0xFD2FB528), both little-endian
    assert.equal((await kafkajsCodec(CompressionTypes.LZ4).compress({ buffer: DATA })).readUInt32LE(0), 0x184d2204);
    assert.equal((await kafkajsCodec(CompressionTypes.ZSTD).compress({ buffer: DATA })).readUInt32LE(0), 0xfd2fb528);
  });

  it("has no problem with any setting while every package loads", () => {
    for (const setting of ["none", "gzip", "snappy", "lz4", "zstd", undefined] as const) assert.equal(compressionProblem(setting), undefined, String(setting));
  });

  it("refuses a setting it does not know", () => {
    assert.equal(compressionProblem("brotli" as CompressionSetting), 'unknown compression "brotli": choose none, gzip, snappy, lz4 or zstd');
  });

  describe("when a codec's package does not load", () => {
    beforeEach(() => registerCodecs(withoutZstd));
    afterEach(async () => {
      await helper.unload();
      sinon.restore();
      registerCodecs();
    });

    it("a zstd batch read fails with an error naming the codec, the package and what to do", async () => {
      const reading = kafkajsCodec(CompressionTypes.ZSTD).decompress(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]));
      await assert.rejects(reading, (error: Error) => {
        assert.ok(error instanceof MissingCodecError);
        assert.equal(
          error.message,
          "zstd compression needs the npm package zstd-napi, which did not load (Cannot find module 'zstd-napi'): " +
            "install it where Node-RED runs (npm install zstd-napi in the Node-RED user directory) and restart Node-RED, or use the librdkafka engine",
        );
        return true;
      });
      await assert.rejects(kafkajsCodec(CompressionTypes.ZSTD).compress({ buffer: DATA }), MissingCodecError);
    });

    it("names zstd as a problem for kafka-out, and no other setting", () => {
      assert.match(compressionProblem("zstd") ?? "", /^zstd compression needs the npm package zstd-napi/);
      for (const setting of ["none", "gzip", "snappy", "lz4"] as const) assert.equal(compressionProblem(setting), undefined, setting);
    });

    it("the other codecs go on working", async () => {
      const codec = kafkajsCodec(CompressionTypes.LZ4);
      assert.ok((await codec.decompress(await codec.compress({ buffer: DATA }))).equals(DATA));
    });

    it("a kafka-out choosing zstd is refused at deploy: red status, an error logged, and every msg to Catch, settled as failed", async () => {
      sinon.stub(KafkajsEngine.prototype, "connectProducer").returns(new Promise(() => undefined));
      const send = sinon.spy(BatchingProducer.prototype, "send");
      await helper.load(
        [kafkaBroker, kafkaOut, catchNode],
        [
          { id: "f1", type: "tab" },
          { id: "broker", type: "kafka-broker", brokers: "127.0.0.1:1", clientId: "test", engine: "kafkajs" },
          { id: "out", type: "kafka-out", z: "f1", broker: "broker", topic: "scored", acks: "all", compression: "zstd", wires: [] },
          { id: "catcher", type: "catch", z: "f1", scope: null, uncaught: false, wires: [["errors"]] },
          { id: "errors", type: "helper", z: "f1" },
        ],
      );
      assert.equal(statusFill("out"), "red");
      assert.match(statusOf("out"), /^These settings cannot work: zstd compression needs the npm package zstd-napi/);
      assert.ok(loggedBy("out").some((entry) => entry.level === "error" && entry.msg.includes("npm install zstd-napi")), "the deploy logs the error");

      const outcomes: string[] = [];
      const unregister = registerSettler("source-1", (_handle, outcome) => outcomes.push(outcome));
      const caught = new Promise<{ error: { message: string } }>((resolve) => helper.getNode("errors").on("input", resolve));
      const msg = { payload: "x", kafka: { source: "source-1", topic: "in", partition: 0, offset: "3" } };
      helper.getNode("out").receive(msg);
      const report = await caught;
      unregister();
      assert.match(report.error.message, /zstd-napi/);
      assert.deepEqual(outcomes, ["failed"]);
      assert.equal(send.callCount, 0, "nothing is written");
    });
  });
});
