/**
 * The worker protocol (the other side is worker.py): frames of a 4-byte big-endian
 * length and a UTF-8 JSON body. Every reply carries the id of its request.
 */

export type ModelKind = "keras" | "sklearn" | "python";

export interface LoadRequest {
  op: "load";
  kind: ModelKind;
  model_path: string;
  handler_path: string;
  config: Record<string, unknown>;
}

export interface PredictRequest {
  op: "predict";
  rows: unknown[];
}

export type Request = LoadRequest | PredictRequest;

export interface PythonError {
  type: string;
  message: string;
  traceback?: string;
}

export type RowResult = { ok: true; value: unknown } | { ok: false; error: PythonError };

/** What a worker says about itself and its model once loaded. */
export interface ModelInfo {
  python: string;
  executable: string;
  pid: number;
  input_shape?: number[];
  output_shape?: number[];
  labels?: string[] | null;
  /** Names of the model's inputs in order, when the model or its sidecar file knows them. */
  feature_names?: string[] | null;
  backend?: string;
}

export type Reply =
  | { id: number; ok: true; info?: ModelInfo; results?: RowResult[] }
  | { id: number; ok: false; error: PythonError };

export function encodeFrame(body: object): Buffer {
  const json = Buffer.from(JSON.stringify(body), "utf8");
  const frame = Buffer.allocUnsafe(4 + json.length);
  frame.writeUInt32BE(json.length, 0);
  json.copy(frame, 4);
  return frame;
}

/** Cuts a byte stream into frames; feed it chunks as they arrive. */
export class FrameDecoder {
  private buffered: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Reply[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const replies: Reply[] = [];
    let offset = 0;
    while (this.buffered.length - offset >= 4) {
      const length = this.buffered.readUInt32BE(offset);
      if (this.buffered.length - offset - 4 < length) break;
      const body = this.buffered.toString("utf8", offset + 4, offset + 4 + length);
      replies.push(JSON.parse(body) as Reply);
      offset += 4 + length;
    }
    this.buffered = this.buffered.subarray(offset);
    return replies;
  }
}
