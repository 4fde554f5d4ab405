import * as assert from "node:assert/strict";
import { FeatureError, extractFeatures } from "../../src/python/features";

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

