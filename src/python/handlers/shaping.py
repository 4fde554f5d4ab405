"""Input checks and output shapes shared by the built-in handlers."""


def check_rows(np, batch, input_shape, dtype):
    """The batch as one array of the given dtype; a row whose shape is not the model's is refused, naming both."""
    try:
        x = np.asarray(batch, dtype=dtype)
        if x.shape[1:] == tuple(input_shape):
            return x  # the common case: one conversion for the whole batch
    except ValueError:
        pass  # ragged rows: find the offending one below
    for row in batch:
        shape = np.shape(row)
        if shape != tuple(input_shape):
            raise ValueError(f"expected features of shape {list(input_shape)}, got {list(shape)}")
    raise ValueError(f"expected features of shape {list(input_shape)}")


def check_label_count(labels, width, source):
    """Output 'label' needs one label per model output; width None: not known before scoring."""
    if width is not None and len(labels) != width:
        raise ValueError(f"output 'label' needs one label per model output: the model gives {width} outputs, {source} names {len(labels)} labels")


class Outputs:
    """
    A batch's numeric outputs and how each row's result is made of them (see
    format_outputs). The worker sends the numbers as bytes and the node builds each
    row's result; rows() builds the same results here.
    """

    def __init__(self, mode, values, labels=None):
        self.mode = mode
        self.values = values
        self.labels = labels

    def __len__(self):
        return len(self.values)

    def table(self):
        """What the node needs, besides the numbers, to build each row's result."""
        described = {"mode": self.mode, "shape": list(self.values.shape)}
        if self.labels is not None:
            described["labels"] = list(self.labels)
        return described

    def numbers(self):
        return self.values.astype("<f8", copy=False).tobytes()

    def rows(self):
        if self.mode == "value":
            return self.values.tolist()
        if self.mode == "label":
            best = self.values.argmax(axis=1).tolist()
            return [
                {"label": self.labels[index], "score": probabilities[index], "probabilities": probabilities}
                for index, probabilities in zip(best, self.values.tolist())
            ]
        return [row.tolist() for row in self.values]


def format_outputs(np, outputs, labels, mode):
    """
    Turns a batch of model outputs into Outputs, which say what each row's result is:
      raw   - the output as the model gives it (a list, or a number for a scalar output)
      value - a plain number (the model must output one value per row)
      label - {label, score, probabilities} (the model must output one score per label)
      auto  - label when labels are known and match, else value for one output, else raw
    """
    outputs = np.asarray(outputs, dtype="float64")
    if not np.all(np.isfinite(outputs)):
        # JSON has no NaN or infinity; the rows that give them fail (the worker retries row by row)
        raise ValueError("the model returned a value that is not a finite number (NaN or infinity)")
    per_row = outputs.reshape(len(outputs), -1) if outputs.ndim > 1 else outputs.reshape(len(outputs), 1)
    width = per_row.shape[1]
    if mode == "auto":
        if labels is not None and len(labels) == width and width > 1:
            mode = "label"
        elif width == 1:
            mode = "value"
        else:
            mode = "raw"
    if mode == "value":
        if width != 1:
            raise ValueError(f"output 'value' needs one number per record, the model gives {width}")
        return Outputs("value", per_row[:, 0])
    if mode == "label":
        if labels is None or len(labels) != width:
            raise ValueError(f"output 'label' needs {width} labels, the model has {'none' if labels is None else len(labels)}")
        return Outputs("label", per_row, labels)
    return Outputs("raw", outputs)
