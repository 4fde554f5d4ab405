/**
 * Takes the model input out of a msg property: an array of numbers (nested for
 * multi-dimensional input), an object with a `features` array, or an object of named
 * features put in the model's input order. Anything else is refused here with a
 * message naming what was expected, before it reaches Python.
 */
export class FeatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FeatureError";
  }
}

export function extractFeatures(payload: unknown, inputShape?: number[] | null, featureNames?: string[] | null): unknown[] {
  const features = Array.isArray(payload) ? payload : byName(payload, featureNames);
  if (!Array.isArray(features)) {
    const accepted = featureNames?.length ? `, or an object with ${featureNames.join(", ")}` : "";
    throw new FeatureError(`expected the features as an array of numbers (or {"features": [...]}${accepted}), got ${describe(payload)}`);
  }
  // checked before the shape is walked: walking thousands of levels would overflow the stack
  if (leadingDepth(features, MAX_FEATURE_DEPTH + 1) > MAX_FEATURE_DEPTH) {
    const takes = inputShape?.length ? `, the model takes ${inputShape.length}` : "";
    throw new FeatureError(`features are nested more than ${MAX_FEATURE_DEPTH} levels deep${takes}`);
  }
  const shape = shapeOf(features);
  if (inputShape && inputShape.length > 0 && inputShape.every((size) => typeof size === "number") && shape.join("x") !== inputShape.join("x")) {
    const expected = inputShape.length === 1 ? `${inputShape[0]} features` : `features of shape [${inputShape.join(", ")}]`;
    const got = shape.length === 1 ? `${shape[0]}` : `shape [${shape.join(", ")}]`;
    throw new FeatureError(`expected ${expected}, got ${got}`);
  }
  return features;
}

/**
 * A record for a column-named model (H2O): an object of named columns (a column it lacks
 * is scored as missing, as H2O does; properties that are not columns stay behind), or an
 * array of values in the model's column order. Once the model's columns are known, an
 * object is sent on as the array of its values in that order. Values are numbers, strings (categorical levels) or null (missing).
 */
export function extractColumns(payload: unknown, columnNames?: string[] | null): unknown {
  const expected = `an object of named columns${columnNames?.length ? ` (${columnNames.join(", ")})` : ""} or an array of values in the model's column order`;
  if (Array.isArray(payload)) {
    if (columnNames?.length && payload.length !== columnNames.length) {
      throw new FeatureError(`expected ${columnNames.length} values in the model's column order (${columnNames.join(", ")}), got ${payload.length}`);
    }
    payload.forEach((value, index) => checkColumnValue(value, `features[${index}]`));
    return payload;
  }
  if (!payload || typeof payload !== "object") throw new FeatureError(`expected ${expected}, got ${describe(payload)}`);
  const record = payload as Record<string, unknown>;
  if (Array.isArray(record.features)) return extractColumns(record.features, columnNames);
  if (!columnNames?.length) {
    for (const [name, value] of Object.entries(record)) checkColumnValue(value, name);
    return record;
  }
  // the values in the model's column order, null where missing: other properties of the
  // msg stay behind, and an array without names is half the JSON to send to Python
  let found = 0;
  const values = columnNames.map((name) => {
    if (!(name in record)) return null;
    found++;
    checkColumnValue(record[name], name);
    return record[name];
  });
  if (found === 0) throw new FeatureError(`the object has none of the model's columns (${columnNames.join(", ")})`);
  return values;
}

function checkColumnValue(value: unknown, name: string): void {
  if (value === null || typeof value === "string" || (typeof value === "number" && Number.isFinite(value))) return;
  throw new FeatureError(`${name} is ${describe(value)}, expected a number, a string (a categorical level) or null (missing)`);
}

/** More nesting than any model input has; a deeper payload is refused before it is walked. */
const MAX_FEATURE_DEPTH = 32;

/** How many arrays are nested at the front of a value (its first element's, and so on), counting up to `limit`. */
function leadingDepth(value: unknown, limit: number): number {
  let depth = 0;
  for (let item = value; Array.isArray(item) && depth < limit; item = item[0]) depth++;
  return depth;
}

function byName(payload: unknown, featureNames?: string[] | null): unknown {
  if (!payload || typeof payload !== "object") return undefined;
  const record = payload as Record<string, unknown>;
  if (Array.isArray(record.features) || !featureNames?.length) return record.features;
  const missing = featureNames.filter((name) => !(name in record));
  if (missing.length === featureNames.length) return undefined;
  if (missing.length > 0) throw new FeatureError(`missing feature ${missing.join(", ")} (the model takes ${featureNames.join(", ")})`);
  return featureNames.map((name) => record[name]);
}

/** The shape of a regular nested array of finite numbers; throws on anything else. */
function shapeOf(value: unknown[], path = "features"): number[] {
  if (value.length === 0) throw new FeatureError(`${path} is empty`);
  if (Array.isArray(value[0])) {
    const shapes = value.map((item, index) => {
      if (!Array.isArray(item)) throw new FeatureError(`${path}[${index}] is ${describe(item)}, expected an array`);
      return shapeOf(item, `${path}[${index}]`).join("x");
    });
    if (new Set(shapes).size > 1) throw new FeatureError(`${path} is ragged: rows of shapes ${[...new Set(shapes)].join(", ")}`);
    return [value.length, ...shapes[0].split("x").map(Number)];
  }
  value.forEach((item, index) => {
    if (typeof item !== "number" || !Number.isFinite(item)) {
      throw new FeatureError(`${path}[${index}] is ${describe(item)}, expected a number`);
    }
  });
  return [value.length];
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  return typeof value === "object" ? "an object without a features array" : `${typeof value} ${String(value)}`;
}
