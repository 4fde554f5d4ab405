"""Export the iris models to ONNX, for the ONNX example flow and tests.

Usage: python models/iris/export_onnx.py [--out DIR]   (DIR defaults to this script's folder)

- iris_logreg.onnx: the scikit-learn pipeline (train_sklearn.py) through skl2onnx, as
  it exports by default: a label output and a ZipMap output (a list of {species: probability}).
- iris_logreg_tensor.onnx: the same without ZipMap: the probabilities as a plain tensor.
- iris_logreg_columns.onnx: the same with an input per measurement, named for it (as
  skl2onnx exports a model given one type per column), without ZipMap.
- iris_mlp.onnx: the Keras model (train.py) through tf2onnx: Keras saves it as a
  TensorFlow SavedModel first (converting the Keras model directly leaves the
  normalisation layer's statistics as inputs), then tf2onnx converts that.
Each has a dynamic batch dimension.
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
OPSET = 17
FEATURES = ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"]


def export_sklearn(out: Path) -> None:
    import joblib
    import numpy as np
    from skl2onnx import convert_sklearn, to_onnx
    from skl2onnx.common.data_types import FloatTensorType

    pipeline = joblib.load(HERE / "iris_logreg.joblib")
    sample = np.zeros((1, 4), dtype="float32")
    opsets = {"": OPSET, "ai.onnx.ml": 3}
    for name, options in (("iris_logreg.onnx", {}), ("iris_logreg_tensor.onnx", {"zipmap": False})):
        model = to_onnx(pipeline, sample, options=options, target_opset=opsets)
        (out / name).write_bytes(model.SerializeToString())
        print(f"wrote {out / name}")
    columns = [(feature, FloatTensorType([None, 1])) for feature in FEATURES]
    model = convert_sklearn(pipeline, initial_types=columns, options={"zipmap": False}, target_opset=opsets)
    (out / "iris_logreg_columns.onnx").write_bytes(model.SerializeToString())
    print(f"wrote {out / 'iris_logreg_columns.onnx'}")


def export_keras(out: Path) -> None:
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import numpy as np

    model = keras.saving.load_model(HERE / "iris_mlp.keras", compile=False)
    model.predict_on_batch(np.zeros((1, 4), dtype="float32"))  # export needs a model that has run
    with tempfile.TemporaryDirectory() as saved:
        model.export(saved, format="tf_saved_model")
        target = out / "iris_mlp.onnx"
        subprocess.run([sys.executable, "-m", "tf2onnx.convert", "--saved-model", saved, "--output", str(target), "--opset", str(OPSET)], check=True)
    print(f"wrote {target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=HERE)
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    export_sklearn(out)
    export_keras(out)


if __name__ == "__main__":
    main()
