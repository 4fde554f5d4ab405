"""ONNX models (.onnx) scored with onnxruntime, in the handler contract.

One InferenceSession per worker, on as many threads as PYTHON_MODEL_THREADS (default 1,
like TensorFlow's: a small model on a shared machine is fastest on one thread per
worker); a whole batch goes through one run().

Inputs: one input tensor (rows of its shape after the batch dimension), or several
inputs of one value each (as skl2onnx exports a model given one initial type per
column): a row then has a value per input, in the model's input order, and the input
names are the feature names. A model whose batch dimension is fixed at 1 is run row by
row, and describe() says so.

Outputs: config["onnx_output"] names the output to use; blank chooses: a classifier's
probabilities when it has them (skl2onnx's "probabilities" tensor, or its ZipMap list of
{label: probability}), else the first output. The class labels come from ZipMap's keys,
the classifier's own attributes in the graph, or a sidecar <model>.meta.json.
"""

import os

from shaping import check_rows, format_outputs
from sidecar import read_meta

# onnxruntime's element types and the numpy dtypes its inputs take
INPUT_DTYPES = {
    "tensor(float)": "float32",
    "tensor(double)": "float64",
    "tensor(float16)": "float16",
    "tensor(int64)": "int64",
    "tensor(int32)": "int32",
}
# the graph attributes where ONNX-ML classifiers keep their class labels
LABEL_ATTRIBUTES = ("classlabels_strings", "classlabels_int64s", "classlabels_ints")


class OnnxModel:
    def __init__(self, session, np, output, output_name, labels, feature_names):
        self.session = session
        self.np = np
        self.output = output
        self.output_name = output_name
        self.labels = labels
        self.feature_names = feature_names
        inputs = session.get_inputs()
        self.input_names = [tensor.name for tensor in inputs]
        self.dtypes = [dtype_of(tensor) for tensor in inputs]
        if len(inputs) == 1:
            dims = inputs[0].shape[1:]
            self.input_shape = tuple(dims) if all(isinstance(size, int) for size in dims) else None
            self.columns = False
        else:
            self.input_shape = (len(inputs),)
            self.columns = True
        self.row_by_row = any(tensor.shape and tensor.shape[0] == 1 for tensor in inputs)
        self.zipmap = output_type(session, output_name).startswith("seq(map(")
        self.gives_labels = is_label_tensor(output_type(session, output_name))


def dtype_of(tensor):
    if tensor.type not in INPUT_DTYPES:
        raise ValueError(f"input {tensor.name} is a {tensor.type}: only numeric tensors ({', '.join(INPUT_DTYPES)}) are supported")
    return INPUT_DTYPES[tensor.type]


def output_type(session, name):
    return next(tensor.type for tensor in session.get_outputs() if tensor.name == name)


def is_label_tensor(type_name):
    return type_name in ("tensor(string)", "tensor(int64)", "tensor(int32)")


def check_inputs(session):
    """One input of any shape, or several of one value per row: anything else is refused, naming the inputs."""
    inputs = session.get_inputs()
    if len(inputs) == 1:
        return
    for tensor in inputs:
        if not (1 <= len(tensor.shape) <= 2 and (len(tensor.shape) == 1 or tensor.shape[1] == 1)):
            described = ", ".join(f"{one.name} {list(one.shape)}" for one in inputs)
            raise ValueError(f"the model takes {len(inputs)} inputs ({described}): supported are one input, or several of one value per row")


def choose_output(session, configured):
    """The output configured, else a classifier's probabilities, else the first output."""
    outputs = session.get_outputs()
    names = [tensor.name for tensor in outputs]
    if configured:
        if configured not in names:
            raise ValueError(f"the model has no output {configured!r}; its outputs are {', '.join(names)}")
        return configured
    for tensor in outputs:
        if tensor.type.startswith("seq(map(") or ("prob" in tensor.name.lower() and tensor.type == "tensor(float)"):
            return tensor.name
    return names[0]


def graph_labels(path):
    """Class labels an ONNX-ML classifier keeps in its graph, or None."""
    import onnx

    graph = onnx.load(path, load_external_data=False).graph
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.name in LABEL_ATTRIBUTES:
                values = onnx.helper.get_attribute_value(attribute)
                return [value.decode() if isinstance(value, bytes) else int(value) for value in values]
    return None


def load(path, config):
    if not os.path.isfile(path):
        raise FileNotFoundError(f"model file not found: {path}")
    import numpy as np
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = int(os.environ.get("PYTHON_MODEL_THREADS", "1"))
    options.inter_op_num_threads = 1
    try:
        session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own exception types for a bad file
        raise ValueError(f"{path} is not an ONNX model onnxruntime can load: {error}") from error
    check_inputs(session)
    meta = read_meta(path)
    output_name = choose_output(session, config.get("onnx_output") or "")
    labels = meta.get("labels") or graph_labels(path)
    feature_names = meta.get("features") or ([tensor.name for tensor in session.get_inputs()] if len(session.get_inputs()) > 1 else None)
    model = OnnxModel(session, np, config.get("output") or "auto", output_name, labels, feature_names)
    if model.output == "label" and (model.gives_labels or not labels):
        raise ValueError(f"output 'label' needs class probabilities and their labels: output {output_name} {'gives the labels alone' if model.gives_labels else 'comes without labels'}")
    return model


def describe(model):
    note = "row by row: the model's batch is fixed at 1" if model.row_by_row else None
    return {
        "input_shape": list(model.input_shape) if model.input_shape else None,
        "feature_names": model.feature_names,
        "labels": [str(label) for label in model.labels] if model.labels else None,
        "inputs": model.input_names,
        "outputs": [tensor.name for tensor in model.session.get_outputs()],
        "output_name": model.output_name,
        "note": note,
    }


def feeds(model, x):
    """The batch as the model's inputs: the one input, or a column per input."""
    if not model.columns:
        return {model.input_names[0]: x.astype(model.dtypes[0], copy=False)}
    session_inputs = model.session.get_inputs()
    return {
        name: (x[:, index] if len(tensor.shape) == 1 else x[:, index : index + 1]).astype(dtype)
        for index, (name, dtype, tensor) in enumerate(zip(model.input_names, model.dtypes, session_inputs))
    }


def run(model, x):
    if not model.row_by_row:
        return model.session.run([model.output_name], feeds(model, x))[0]
    results = [model.session.run([model.output_name], feeds(model, x[index : index + 1]))[0] for index in range(len(x))]
    return [item for result in results for item in result] if model.zipmap else model.np.concatenate(results)


def predict(model, batch):
    np = model.np
    # float64 as the numbers arrive; each input takes its own dtype in feeds()
    x = check_rows(np, batch, model.input_shape, "float64") if model.input_shape else np.asarray(batch, dtype="float64")
    y = run(model, x)
    if model.gives_labels:
        return [value.item() if hasattr(value, "item") else value for value in y]
    if model.zipmap:
        labels = model.labels or list(y[0].keys())
        y = np.array([[row[label] for label in labels] for row in y], dtype="float64")
        return format_outputs(np, y, labels, model.output)
    return format_outputs(np, y, model.labels, model.output)
