import { CompressionCodecs, CompressionTypes, KafkaJSNonRetriableError } from "kafkajs";
import type { Codec } from "../../engine";

/**
 * Kafka's compression codecs for kafkajs, which has gzip alone built in: snappy, lz4 and
 * zstd come from npm packages and are registered with kafkajs when this module loads
 * (the kafkajs engine imports it, so every client has them). A package that does not load
 * (zstd-napi is an optional native build that may have failed) leaves a codec that fails
 * with what to do, for a batch read and for a kafka-out that chooses it.
 */

/** kafka-out's compression setting, as the editor saves it. */
export type CompressionSetting = Codec;

/** A codec as kafkajs calls it: compress is given kafkajs's encoder, whose bytes are `buffer`. */
interface KafkajsCodec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

/** What is used of each package, declared here: an optional package may be absent, its types with it. */
interface Lz4Package {
  compressFrame(data: Buffer): Promise<Buffer>;
  decompressFrame(data: Buffer): Promise<Buffer>;
}
interface ZstdPackage {
  compress(data: Uint8Array): Buffer;
  decompress(data: Uint8Array): Buffer;
}

type PackagedSetting = "snappy" | "lz4" | "zstd";

const PACKAGED: Record<PackagedSetting, { type: CompressionTypes; packageName: string; codec: (loaded: unknown) => KafkajsCodec }> = {
  // kafkajs-snappy is a kafkajs codec factory already
  snappy: { type: CompressionTypes.Snappy, packageName: "kafkajs-snappy", codec: (snappy) => (snappy as () => KafkajsCodec)() },
  lz4: {
    type: CompressionTypes.LZ4,
    packageName: "lz4-napi",
    // Kafka's lz4 is the LZ4 frame format, not bare blocks
    codec: (lz4) => {
      const { compressFrame, decompressFrame } = lz4 as Lz4Package;
      return { compress: (encoder) => compressFrame(encoder.buffer), decompress: (buffer) => decompressFrame(buffer) };
    },
  },
  zstd: {
    type: CompressionTypes.ZSTD,
    packageName: "zstd-napi",
    codec: (zstd) => {
      const { compress, decompress } = zstd as ZstdPackage;
      return { compress: async (encoder) => compress(encoder.buffer), decompress: async (buffer) => decompress(buffer) };
    },
  },
};

const KAFKAJS_TYPES: Record<CompressionSetting, CompressionTypes> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};

/** A codec whose package did not load: what failed, and what to do. */
export class MissingCodecError extends KafkaJSNonRetriableError {
  // kafkajs's consumer gives up on a fetch at once for this name alone (its own error for a
  // codec it lacks); any other error it retries for minutes while reading stalls
  override readonly name = "KafkaJSNotImplemented";

  constructor(codec: PackagedSetting, packageName: string, cause: unknown) {
    // a module-not-found message goes on with the whole require stack: its first line says it
    const reason = String((cause as Error)?.message ?? cause).split("\n")[0];
    super(
      `${codec} compression needs the npm package ${packageName}, which did not load (${reason}): ` +
        `install it where Node-RED runs (npm install ${packageName} in the Node-RED user directory) and restart Node-RED, or use the librdkafka engine`,
    );
  }
}

const missing = new Map<CompressionSetting, MissingCodecError>();

/**
 * Registers the packaged codecs with kafkajs, each loaded with `load` (the package
 * loader, for a test to stand in for).
 */
export function registerCodecs(load: (packageName: string) => unknown = require): void {
  for (const [setting, { type, packageName, codec }] of Object.entries(PACKAGED) as [PackagedSetting, (typeof PACKAGED)[PackagedSetting]][]) {
    let registered: KafkajsCodec;
    try {
      registered = codec(load(packageName));
      missing.delete(setting);
    } catch (cause) {
      const error = new MissingCodecError(setting, packageName, cause);
      missing.set(setting, error);
      registered = { compress: () => Promise.reject(error), decompress: () => Promise.reject(error) };
    }
    CompressionCodecs[type as keyof typeof CompressionCodecs] = () => registered;
  }
}

registerCodecs();

/** kafkajs's compression type for a kafka-out setting (blank, in flows made before the setting: none). */
export function kafkajsCompression(setting: CompressionSetting | undefined): CompressionTypes {
  return KAFKAJS_TYPES[setting ?? "none"];
}

/** Why a kafka-out with this setting cannot write (a codec whose package did not load, a setting unknown), or undefined. */
export function compressionProblem(setting: CompressionSetting | undefined): string | undefined {
  if (setting !== undefined && !Object.hasOwn(KAFKAJS_TYPES, setting)) return `unknown compression "${String(setting)}": choose none, gzip, snappy, lz4 or zstd`;
  return missing.get(setting ?? "none")?.message;
}
