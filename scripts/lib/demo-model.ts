import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT } from "./project";

/** The demo Keras model (models/iris), which the demo, the benchmark and the tests score. */
export const DEMO_MODEL = path.join(ROOT, "models", "iris", "iris_mlp.keras");
export const HOLDOUT_FILE = path.join(ROOT, "models", "iris", "holdout.json");

/** A held-out measurement with its true species. */
export interface HoldoutRow {
  features: number[];
  label: string;
}

export const HOLDOUT_ROWS: HoldoutRow[] = JSON.parse(fs.readFileSync(HOLDOUT_FILE, "utf8")) as HoldoutRow[];
