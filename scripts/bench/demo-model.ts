import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT } from "../lib/project";

/** The demo Keras model every pass scores, and the held-out rows it is fed. */
export const MODEL = path.join(ROOT, "models", "iris", "iris_mlp.keras");
export const HOLDOUT = path.join(ROOT, "models", "iris", "holdout.json");

export const holdoutRows: number[][] = (JSON.parse(fs.readFileSync(HOLDOUT, "utf8")) as { features: number[] }[]).map((row) => row.features);
