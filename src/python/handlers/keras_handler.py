"""Keras models (.keras, legacy .h5) in the handler contract: load(path, config), predict(model, batch).

The backend is chosen by config["backend"] and must be set before keras is first
imported. Batches are scored with predict_on_batch: model.predict() builds a data
pipeline on every call and costs tens of milliseconds even for one row.
"""

import importlib.util
import os

from shaping import check_label_count, check_rows, format_outputs
from sidecar import read_meta, sidecar_path


class KerasModel:
    def __init__(self, keras_model, meta, output, np):
        self.model = keras_model
        self.labels = meta.get("labels")
        self.feature_names = meta.get("features")
        self.output = output
        self.np = np
        self.input_shape = tuple(keras_model.input_shape[1:])


def configure_backend(backend):
    os.environ["KERAS_BACKEND"] = backend
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    threads = os.environ.get("PYTHON_MODEL_THREADS", "1")
    if backend == "tensorflow":
        import tensorflow as tf

        # a small model on a shared machine is fastest on one thread per worker
        tf.config.threading.set_intra_op_parallelism_threads(int(threads))
        tf.config.threading.set_inter_op_parallelism_threads(int(threads))
    elif backend == "jax":
        os.environ.setdefault("XLA_FLAGS", f"--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads={threads}")


def output_width(output_shape):
    """Numbers per record of a single-output model; None when the model does not say before scoring."""
    if not isinstance(output_shape, tuple) or not all(isinstance(size, int) for size in output_shape[1:]):
        return None
    width = 1
    for size in output_shape[1:]:
        width *= size
    return width


def check_output(model, model_path):
    """A model that cannot give output 'label' is refused now rather than at every record."""
    if model.output != "label":
        return
    sidecar = sidecar_path(model_path)
    if model.labels is None:
        found = "has no \"labels\"" if os.path.isfile(sidecar) else "does not exist"
        raise ValueError(f"output 'label' needs the class labels, as \"labels\" in the sidecar {sidecar}, which {found}")
    check_label_count(model.labels, output_width(model.model.output_shape), f"the sidecar {sidecar}")


def load(path, config):
    if not os.path.isfile(path):
        raise FileNotFoundError(f"model file not found: {path}")
    if importlib.util.find_spec("keras") is None:
        # say what is missing before the backend import fails with a less telling name
        raise ModuleNotFoundError("No module named 'keras'", name="keras")
    configure_backend(config.get("backend") or "tensorflow")
    import keras
    import numpy as np

    keras_model = keras.saving.load_model(path, compile=False)
    model = KerasModel(keras_model, read_meta(path), config.get("output") or "auto", np)
    check_output(model, path)
    # each padded batch size is traced (TensorFlow) or compiled (JAX) on first use: do it
    # now, so that the node is fast from the moment it says ready
    size = 1
    while size <= padded_size(int(config.get("max_batch") or 1)):
        keras_model.predict_on_batch(np.zeros((size, *model.input_shape), dtype="float32"))
        size *= 2
    return model


def describe(model):
    return {
        "input_shape": list(model.input_shape),
        "output_shape": list(model.model.output_shape[1:]),
        "labels": model.labels,
        "feature_names": model.feature_names,
        "backend": os.environ.get("KERAS_BACKEND"),
    }


def padded_size(rows):
    """Round the batch up to a power of two so a compiled model sees few distinct shapes."""
    size = 1
    while size < rows:
        size *= 2
    return size


def predict(model, batch):
    np = model.np
    x = check_rows(np, batch, model.input_shape, "float32")
    padded = np.zeros((padded_size(len(x)), *model.input_shape), dtype="float32")
    padded[: len(x)] = x
    y = np.asarray(model.model.predict_on_batch(padded))[: len(x)]
    return format_outputs(np, y, model.labels, model.output)
