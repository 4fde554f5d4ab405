"""The baseline the benchmark compares against: how Python nodes usually score, one
model.predict() call per record (Keras builds a data pipeline on every such call)."""

import os


def load(path, config):
    os.environ["KERAS_BACKEND"] = config.get("backend") or "tensorflow"
    import keras

    return keras.saving.load_model(path, compile=False)


def predict(model, batch):
    import numpy as np

    return [model.predict(np.asarray([row], dtype="float32"), verbose=0)[0].tolist() for row in batch]
