"""Input checks and output shapes shared by the built-in handlers."""


def check_rows(np, batch, input_shape):
    """Refuses rows whose shape is not the model's, naming both, before the model sees them."""
    for row in batch:
        shape = np.shape(row)
        if shape != input_shape:
            raise ValueError(f"expected features of shape {list(input_shape)}, got {list(shape)}")
    return np.asarray(batch, dtype="float32")


def format_outputs(np, outputs, labels, mode):
    """
    Turns a batch of model outputs into one JSON value per row:
      raw   - the output as the model gives it (a list, or a number for a scalar output)
      value - a plain number (the model must output one value per row)
      label - {label, score, probabilities} (the model must output one score per label)
      auto  - label when labels are known and match, else value for one output, else raw
    """
    outputs = np.asarray(outputs)
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
        return [float(row[0]) for row in per_row]
    if mode == "label":
        if labels is None or len(labels) != width:
            raise ValueError(f"output 'label' needs {width} labels, the model has {'none' if labels is None else len(labels)}")
        results = []
        for row in per_row:
            best = int(np.argmax(row))
            results.append({"label": labels[best], "score": float(row[best]), "probabilities": row.tolist()})
        return results
    return [row.tolist() for row in outputs]
