import * as fs from "node:fs";
import * as path from "node:path";
import { H2O_LIBS } from "../package-paths";
import { extractColumns, extractFeatures } from "./features";
import { MODEL_KINDS, type ModelKind } from "./protocol";

/** The node's settings a kind's handler may use. */
export interface KindSettings {
  backend?: string;
  method?: string;
  output?: string;
  onnxOutput?: string;
  unknownLevels?: string;
  maxBatch: number;
}

/** Takes a record's model input out of a msg property, given what the loaded model says of its inputs. */
export type FeatureReader = (payload: unknown, inputShape?: number[] | null, names?: string[] | null) => unknown;

export function modelKind(configured: string | undefined): ModelKind {
  return MODEL_KINDS.find((kind) => kind === configured) ?? "keras";
}

/**
 * What the kind's handler gets as load(path, config). Every kind gets the common
 * settings; ONNX the output it is to use; H2O how to treat unknown categorical levels and
 * the class path of h2o-genmodel that setup fetched.
 */
export function handlerConfig(kind: ModelKind, settings: KindSettings): Record<string, unknown> {
  const common = {
    backend: settings.backend || "tensorflow",
    method: settings.method || "predict",
    output: settings.output || "auto",
    // lets a compiling backend prepare every batch shape it will see before the node says ready
    max_batch: settings.maxBatch,
  };
  if (kind === "onnx") return { ...common, onnx_output: settings.onnxOutput?.trim() ?? "" };
  if (kind === "h2o") return { ...common, unknown_levels: settings.unknownLevels === "fail" ? "fail" : "na", classpath: h2oClasspath() };
  return common;
}

/** H2O models are column-named and take strings for categorical columns; the other kinds take numbers. */
export function featureReader(kind: ModelKind): FeatureReader {
  return kind === "h2o" ? (payload, _shape, names) => extractColumns(payload, names) : extractFeatures;
}

/** The jars setup fetched for H2O MOJO models (none before it has). */
function h2oClasspath(): string[] {
  if (!fs.existsSync(H2O_LIBS)) return [];
  return fs
    .readdirSync(H2O_LIBS)
    .filter((name) => name.endsWith(".jar"))
    .map((name) => path.join(H2O_LIBS, name));
}
