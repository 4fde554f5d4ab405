import * as assert from "node:assert/strict";
import { FeatureError, extractColumns, extractFeatures } from "../../src/python/features";

describe("extractFeatures", () => {
  it("takes an array payload or the features property of an object", () => {
    assert.deepEqual(extractFeatures([1, 2, 3, 4], [4]), [1, 2, 3, 4]);
    assert.deepEqual(extractFeatures({ features: [1, 2, 3, 4], id: 7 }, [4]), [1, 2, 3, 4]);
  });

  it("names the expected and received feature count", () => {
    assert.throws(() => extractFeatures([1, 2, 3], [4]), { name: "FeatureError", message: "expected 4 features, got 3" });
  });

  it("checks multi-dimensional shapes", () => {
    assert.deepEqual(extractFeatures([[1, 2], [3, 4]], [2, 2]), [[1, 2], [3, 4]]);
    assert.throws(() => extractFeatures([[1, 2], [3, 4]], [4]), /expected 4 features, got shape \[2, 2\]/);
    assert.throws(() => extractFeatures([[1, 2], [3]]), /ragged/);
  });

  it("refuses non-numbers, naming the position", () => {
    assert.throws(() => extractFeatures([1, "2", 3]), /features\[1\] is the string "2", expected a number/);
    assert.throws(() => extractFeatures([1, Number.NaN]), /features\[1\] is number NaN/);
  });

  it("refuses payloads that carry no features", () => {
    assert.throws(() => extractFeatures("5.1,3.5"), FeatureError);
    assert.throws(() => extractFeatures({ values: [1] }), /an object without a features array/);
    assert.throws(() => extractFeatures(null), /got null/);
    assert.throws(() => extractFeatures([]), /empty/);
  });

  it("accepts any shape when the model's input shape is not known", () => {
    assert.deepEqual(extractFeatures([1, 2, 3]), [1, 2, 3]);
  });

  it("refuses features nested deeper than the model's input, without walking them all", () => {
    const deep = (levels: number): unknown => Array.from({ length: levels }).reduce<unknown>((inner) => [inner], 1);
    assert.throws(() => extractFeatures(deep(3), [4]), { name: "FeatureError", message: "expected 4 features, got shape [1, 1, 1]" });
    assert.throws(() => extractFeatures(deep(10_000), [4]), { name: "FeatureError", message: "features are nested more than 32 levels deep, the model takes 1" });
    assert.throws(() => extractFeatures(deep(10_000)), { name: "FeatureError", message: "features are nested more than 32 levels deep" });
  });
});


describe("extractColumns (column-named models: H2O)", () => {
  const columns = ["radius", "size", "texture"];

  it("takes the model's columns from an object in their order, leaving other properties behind; a column it lacks is missing (null)", () => {
    assert.deepEqual(extractColumns({ texture: null, size: "large", radius: 14.2, id: "r-7" }, columns), [14.2, "large", null]);
    assert.deepEqual(extractColumns({ radius: 14.2 }, columns), [14.2, null, null]);
    assert.deepEqual(extractColumns({ radius: 14.2, size: "large" }), { radius: 14.2, size: "large" });
    assert.deepEqual(extractColumns({ features: [14.2, "large", 20.1] }, columns), [14.2, "large", 20.1]);
  });

  it("takes an array of values in the model's column order, and names the count it expected", () => {
    assert.deepEqual(extractColumns([14.2, "large", null], columns), [14.2, "large", null]);
    assert.throws(() => extractColumns([14.2, "large"], columns), { name: "FeatureError", message: "expected 3 values in the model's column order (radius, size, texture), got 2" });
  });

  it("refuses values no column holds and objects with none of the model's columns, naming them", () => {
    assert.throws(() => extractColumns({ radius: [1, 2] }, columns), /radius is an array, expected a number, a string \(a categorical level\) or null \(missing\)/);
    assert.throws(() => extractColumns({ radius: Number.NaN }, columns), /radius is number NaN/);
    assert.throws(() => extractColumns({ weight: 3 }, columns), /the object has none of the model's columns \(radius, size, texture\)/);
    assert.throws(() => extractColumns("14.2,large", columns), /expected an object of named columns \(radius, size, texture\) or an array of values in the model's column order, got the string/);
  });
});
