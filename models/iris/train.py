"""Train the demo iris classifier and write the model, its metadata and the held-out rows.

Usage: python models/iris/train.py [--out DIR]   (DIR defaults to this script's folder)
"""

import argparse
import json
import os
from pathlib import Path

# The backend must be chosen before keras is imported; training is pinned to
# TensorFlow so the op-determinism switch below applies.
os.environ["KERAS_BACKEND"] = "tensorflow"

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from sklearn.datasets import load_iris  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

SEED = 42
FEATURES = ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"]
LABELS = ["setosa", "versicolor", "virginica"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)

    # Same seed + deterministic ops => identical weights and accuracy on every run.
    keras.utils.set_random_seed(SEED)
    tf.config.experimental.enable_op_determinism()

    # sklearn ships iris with the package, so nothing is downloaded.
    # Columns are already in FEATURES order, in centimetres; targets index LABELS.
    iris = load_iris()
    x = iris.data.astype("float32")
    y = iris.target
    # Stratified so every class is equally represented in the 30 held-out rows.
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.2, stratify=y, random_state=SEED
    )

    # Normalization lives inside the model, so callers send raw cm values.
    norm = keras.layers.Normalization()
    norm.adapt(x_train)  # statistics from the training split only
    model = keras.Sequential(
        [
            keras.Input(shape=(len(FEATURES),)),
            norm,
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(len(LABELS), activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.01),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x_train, y_train, epochs=100, batch_size=16, verbose=0)

    # Accuracy from argmax of the predictions, the same way consumers will use it.
    probs = model.predict_on_batch(x_test)
    accuracy = float(np.mean(np.argmax(probs, axis=1) == y_test))

    model.save(out / "iris_mlp.keras")
    meta = {
        "features": FEATURES,
        "labels": LABELS,
        "input_shape": [len(FEATURES)],
        "output": "softmax class probabilities in label order",
        "test_accuracy": round(accuracy, 4),
        "train_rows": len(x_train),
        "test_rows": len(x_test),
        "seed": SEED,
        "keras_version": keras.__version__,
        "backend": "tensorflow",
    }
    (out / "iris_mlp.meta.json").write_text(json.dumps(meta, indent=2) + "\n")

    # Held-out rows with their true labels, for the demo feed and the tests.
    # round(..., 2) turns float32 noise (5.0999999) back into the dataset's 1-decimal values.
    holdout = [
        {"features": [round(float(v), 2) for v in row], "label": LABELS[int(t)]}
        for row, t in zip(x_test, y_test)
    ]
    # One row per line keeps the file readable and its diffs small.
    lines = ",\n".join("  " + json.dumps(row) for row in holdout)
    (out / "holdout.json").write_text("[\n" + lines + "\n]\n")

    print(f"held-out accuracy: {accuracy:.4f} ({len(x_test)} rows)")


if __name__ == "__main__":
    main()
