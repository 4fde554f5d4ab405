"""H2O MOJO models (.zip) in the handler contract, scored by H2O's own h2o-genmodel.

h2o-genmodel is Java: a JVM is started inside the worker (JPype) at the first load and
lives as long as the worker. Its class path is config["classpath"] (a list of jars; the
node passes those `npm run setup` puts in .h2o/libs), else the environment variable
PYTHON_MODEL_H2O_CLASSPATH (jars or folders separated by os.pathsep; "dir/*" is a
folder's jars). It must hold h2o-genmodel (of the MOJO's H2O version or newer) with its
dependencies, and h2o-batch-scorer.jar, which setup compiles from h2o/BatchScorer.java.

Scoring: each row is made into H2O's RowData and scored by EasyPredictModelWrapper, as
H2O's Java tools do. The batch crosses into the JVM as two arrays (numbers, levels) and
BatchScorer scores it in one call: 9 to 13 times the rows per second of a call per
column and row from Python (measured on the example MOJOs; see models/h2o/README.md).

Rows: a dict of named columns (a column left out, or None, is missing, as in H2O; keys
that are not the model's columns are ignored), or a list of values in the model's column
order (describe()["feature_names"]). Values, read as H2O reads them:
- numeric column: a number. A string that reads as one ("3.5") is that number, as H2O's
  wrapper and PredictCsv read it; any other string fails its row, naming the column (the
  wrapper's default: its convertInvalidNumbersToNa would score a typo as missing without a
  word). true and false are read as 1 and 0.
- categorical column: a string is a level. A whole number is the level it is written as
  (2 and 2.0 are "2"): H2O's predict reads a numeric column of whole numbers so; it
  refuses other numbers, and so does this handler, failing the row. (The wrapper alone
  takes strings only.)
- config["unknown_levels"]: "na" (the default) scores a level the model never saw as
  missing, as H2O's predict and PredictCsv do; "fail" fails its row, naming the column
  and the level (PredictUnknownCategoricalLevelException, the wrapper's default).

Outputs (config["output"]), one per row:
- "label": classifiers only: {"label", "score" (the label's probability), "probabilities"
  (one per class, in the order of describe()["labels"])}, and for binomial models
  "threshold": H2O's chosen threshold, by which H2O picks the label (not the likelier class).
- "value": a classifier's label, or a regression's number.
- "raw": a classifier's {label: probability}, or a regression's number.
- "auto" (the default): "label" for classifiers, "value" for regression.

Binomial, multinomial and regression models are scored; other categories (clustering,
anomaly detection, ordinal, ...) and models with an offset column are refused at load.
"""

import math
import numbers
import os
import zipfile
from operator import itemgetter

CLASSPATH_VARIABLE = "PYTHON_MODEL_H2O_CLASSPATH"
CATEGORIES = ("Binomial", "Multinomial", "Regression")
OUTPUTS = ("auto", "label", "value", "raw")
UNKNOWN_LEVELS = ("na", "fail")


class H2oModel:
    def __init__(self, mojo, java, columns, config, np):
        self.np = np
        self.java = java
        self.category = str(mojo.getModelCategory())
        self.feature_names = [name for name, _ in columns]
        self.levels = dict(columns)
        self.numeric = [name for name, levels in columns if levels is None]
        self.categorical = [name for name, levels in columns if levels is not None]
        self.pick_numeric = picker([i for i, (_, levels) in enumerate(columns) if levels is None])
        self.pick_categorical = picker([i for i, (_, levels) in enumerate(columns) if levels is not None])
        self.labels = None if self.category == "Regression" else response_labels(mojo)
        self.threshold = float(mojo._defaultThreshold) if self.category == "Binomial" else None
        self.width = 1 if self.labels is None else 1 + len(self.labels)
        self.output = config["output"]
        self.info = {"h2o_version": str(mojo._h2oVersion), "algorithm": str(mojo._algoName)}
        wrapper_config = java.Config().setModel(mojo).setConvertUnknownCategoricalLevelsToNa(config["unknown_levels"] == "na")
        wrapper = java.EasyPredictModelWrapper(wrapper_config)
        self.scorer = java.BatchScorer(wrapper, java.strings(self.numeric), java.strings(self.categorical))


class Java:
    """The JVM, started once per process, and the classes the handler uses."""

    def __init__(self, classpath):
        import jpype

        if not jpype.isJVMStarted():
            jpype.startJVM(classpath=classpath, convertStrings=False)
        self.JException = jpype.JException
        self.strings = jpype.JArray(jpype.JString)
        self.doubles = jpype.JArray(jpype.JDouble)
        self.MojoModel = self.find(jpype, "hex.genmodel.MojoModel", "h2o-genmodel")
        self.EasyPredictModelWrapper = self.find(jpype, "hex.genmodel.easy.EasyPredictModelWrapper", "h2o-genmodel")
        self.Config = self.EasyPredictModelWrapper.Config
        self.UnknownLevel = self.find(jpype, "hex.genmodel.easy.exception.PredictUnknownCategoricalLevelException", "h2o-genmodel")
        self.BatchScorer = self.find(jpype, "pythonmodel.h2o.BatchScorer", "h2o-batch-scorer.jar")

    @staticmethod
    def find(jpype, name, jar):
        try:
            return jpype.JClass(name)
        except TypeError:  # JPype's "Class ... is not found"
            raise ImportError(
                f"the Java class {name} is not on the class path ({jar} is missing): run `npm run setup`, which puts it in .h2o/libs, "
                f"or add it to {CLASSPATH_VARIABLE}; a JVM started earlier in this worker keeps its class path"
            ) from None


def class_path(config):
    entries = [str(entry) for entry in config.get("classpath") or []]
    if not entries:
        entries = [entry for entry in os.environ.get(CLASSPATH_VARIABLE, "").split(os.pathsep) if entry]
    if not entries:
        raise FileNotFoundError(
            f"h2o-genmodel's jars were not found: run `npm run setup` (it fetches them into .h2o/libs) "
            f"or set {CLASSPATH_VARIABLE} to them (jars or folders separated by {os.pathsep!r})"
        )
    missing = [entry for entry in entries if not os.path.exists(entry[:-1] if entry.endswith("*") else entry)]
    if missing:
        raise FileNotFoundError(f"class path entries not found: {', '.join(missing)} (`npm run setup` puts h2o-genmodel's jars in .h2o/libs)")
    return entries


def java_reason(error):
    message = error.getMessage()
    name = str(error.getClass().getSimpleName())
    return f"{name}: {message}" if message is not None else name


def picker(indices):
    """A function giving a list's items at these indices, as a tuple."""
    if not indices:
        return lambda row: ()
    if len(indices) == 1:
        index = indices[0]
        return lambda row: (row[index],)
    return itemgetter(*indices)


def input_columns(mojo):
    """
    The columns a row gives, in the model's order, each with its levels (None: numeric).
    A model trained with a categorical encoding other than H2O's own (one-hot, binary ...)
    reads the original columns, as EasyPredictModelWrapper does.
    """
    names, domains, count = mojo.getOrigNames(), mojo.getOrigDomainValues(), mojo.getOrigNumCols()
    if names is None:
        names, domains, count = mojo.getNames(), mojo.getDomainValues(), mojo.nfeatures()
    return [(str(names[i]), None if domains[i] is None else [str(level) for level in domains[i]]) for i in range(count)]


def response_labels(mojo):
    domain = mojo.getDomainValues(mojo.getResponseIdx())
    return ["0", "1"] if domain is None else [str(label) for label in domain]  # quasibinomial: no domain, as the wrapper says


def check_config(config):
    output = config.get("output") or "auto"
    if output not in OUTPUTS:
        raise ValueError(f"output {output!r} is not one of {', '.join(OUTPUTS)}")
    unknown_levels = config.get("unknown_levels") or "na"
    if unknown_levels not in UNKNOWN_LEVELS:
        raise ValueError(f"unknown_levels {unknown_levels!r} is not one of {', '.join(UNKNOWN_LEVELS)}")
    return {**config, "output": output, "unknown_levels": unknown_levels}


def check_zip(path):
    """A MOJO is a zip with a model.ini; h2o-genmodel's own words for other files are obscure ("entry")."""
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is not an H2O MOJO: it is not a zip file")
    with zipfile.ZipFile(path) as mojo:
        if "model.ini" not in mojo.namelist():
            raise ValueError(f"{path} is not an H2O MOJO: the zip has no model.ini")


def load(path, config):
    if not os.path.isfile(path):
        raise FileNotFoundError(f"model file not found: {path}")
    config = check_config(config)
    import numpy as np

    check_zip(path)
    java = Java(class_path(config))
    try:
        mojo = java.MojoModel.load(path)
    except java.JException as error:
        raise ValueError(f"{path} is not an H2O MOJO that this h2o-genmodel can read: {java_reason(error)}") from None
    category = str(mojo.getModelCategory())
    if category not in CATEGORIES:
        raise ValueError(f"{path} is an H2O {category} model ({mojo._algoName}); the h2o kind scores {', '.join(CATEGORIES)} models")
    if mojo.requiresOffset():
        raise ValueError(f"{path} was trained with the offset column {mojo.getOffsetName()}, which the h2o kind does not give it")
    if config["output"] == "label" and category == "Regression":
        raise ValueError("output 'label' needs a classifier; this model is a regression")
    model = H2oModel(mojo, java, input_columns(mojo), config, np)
    warm_up(model)
    return model


def warm_up(model, rows=500, batches=10):
    """
    A new JVM interprets the scoring code until its JIT has seen it run thousands of
    times (the first batches took 10 to 90 ms instead of 3): score made-up rows (zeros,
    first levels) now, so that the node is fast from the moment it says ready.
    """
    row = [0.0 if levels is None else levels[0] for levels in model.levels.values()]
    numeric, categorical = cells(model, [row] * rows)
    numbers, levels = model.java.doubles(as_numbers(model, numeric)), model.java.strings(categorical)
    for _ in range(batches):
        model.scorer.score(numbers, levels, rows)


def describe(model):
    return {
        "feature_names": model.feature_names,
        "labels": model.labels,
        "category": model.category,
        "threshold": model.threshold,
        **model.info,
    }


def row_error(model, row):
    count = len(model.feature_names)
    got = f"a list of {len(row)} values" if isinstance(row, (list, tuple)) else type(row).__name__
    return ValueError(f"a row is a dict of named columns or a list of {count} values in the model's column order ({', '.join(model.feature_names)}); got {got}")


def cells(model, batch):
    """The batch's numeric and its categorical values, each row after row in the model's column order."""
    numeric, categorical = [], []
    for row in batch:
        if isinstance(row, dict):
            numeric.extend(map(row.get, model.numeric))
            categorical.extend(map(row.get, model.categorical))
        elif isinstance(row, (list, tuple)) and len(row) == len(model.feature_names):
            numeric.extend(model.pick_numeric(row))
            categorical.extend(model.pick_categorical(row))
        else:
            raise row_error(model, row)
    return numeric, categorical


def as_numbers(model, values):
    """The numeric columns' values as float64, None as NaN (missing to H2O), numeric strings read as numbers."""
    try:
        return model.np.array(values, dtype="float64")
    except (TypeError, ValueError) as error:
        reason = error
    for index, value in enumerate(values):
        try:
            float(value if value is not None else 0.0)
        except (TypeError, ValueError):
            column = model.numeric[index % len(model.numeric)]
            raise ValueError(f"column {column!r} is numeric, and {value!r} is not a number") from None
    raise ValueError(f"the numeric columns' values are not numbers: {reason}")


def as_level(value, column):
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"column {column!r} is categorical: expected a string (a level), a whole number or None, got {type(value).__name__}")
    if math.isnan(value):
        return None
    if not float(value).is_integer():
        raise ValueError(f"column {column!r} is categorical, and {value!r} is not a whole number (H2O reads only whole numbers as levels)")
    return str(int(value))


def as_levels(model, values):
    if all(value is None or type(value) is str for value in values):
        return values
    return [as_level(value, model.categorical[index % len(model.categorical)]) for index, value in enumerate(values)]


def unknown_level_error(model, error):
    column, level = str(error.getColumnName()), str(error.getUnknownLevel())
    known = model.levels.get(column) or []
    shown = ", ".join(repr(name) for name in known[:20]) + (", ..." if len(known) > 20 else "")
    return ValueError(f"unknown level {level!r} in the categorical column {column!r} (unknown_levels is 'fail'; the model knows {shown})")


def predict(model, batch):
    np, java = model.np, model.java
    if isinstance(batch, np.ndarray):
        batch = batch.tolist()  # numeric rows sent as one block
    numeric, categorical = cells(model, batch)
    try:
        scored = model.scorer.score(java.doubles(as_numbers(model, numeric)), java.strings(as_levels(model, categorical)), len(batch))
    except java.UnknownLevel as error:
        raise unknown_level_error(model, error) from None
    except java.JException as error:
        raise RuntimeError(f"H2O could not score the rows: {java_reason(error)}") from None
    table = np.asarray(scored).reshape(len(batch), model.width)
    if not np.all(np.isfinite(table)):
        # JSON has no NaN; the rows that give one fail (the worker retries row by row)
        raise ValueError("H2O's prediction is not a finite number")
    return results(model, table)


def results(model, table):
    if model.labels is None:
        return table[:, 0].tolist()
    labels = model.labels
    indices = table[:, 0].astype("int64").tolist()
    probabilities = table[:, 1:].tolist()
    if model.output == "value":
        return [labels[index] for index in indices]
    if model.output == "raw":
        return [dict(zip(labels, row)) for row in probabilities]
    extra = {"threshold": model.threshold} if model.threshold is not None else {}
    return [{"label": labels[index], "score": row[index], "probabilities": row, **extra} for index, row in zip(indices, probabilities)]
