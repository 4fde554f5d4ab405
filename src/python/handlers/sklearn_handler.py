"""scikit-learn estimators saved with joblib or pickle, in the handler contract.

config["method"] picks predict (labels or values) or predict_proba (class
probabilities); the whole batch goes to the estimator in one call.
"""

import os
import pickle

from shaping import check_rows, format_outputs


class SklearnModel:
    def __init__(self, estimator, method, output, np):
        self.estimator = estimator
        self.method = method
        self.output = output
        self.np = np
        n_features = getattr(estimator, "n_features_in_", None)
        self.input_shape = (int(n_features),) if n_features is not None else None
        names = getattr(estimator, "feature_names_in_", None)
        self.feature_names = [str(name) for name in names] if names is not None else None
        classes = getattr(estimator, "classes_", None)
        self.labels = [c.item() if hasattr(c, "item") else c for c in classes] if classes is not None else None


def load(path, config):
    if not os.path.isfile(path):
        raise FileNotFoundError(f"model file not found: {path}")
    import numpy as np

    try:
        import joblib

        estimator = joblib.load(path)
    except ImportError:
        with open(path, "rb") as file:
            estimator = pickle.load(file)
    method = config.get("method") or "predict"
    if not callable(getattr(estimator, method, None)):
        raise AttributeError(f"{type(estimator).__name__} has no {method}()")
    model = SklearnModel(estimator, method, config.get("output") or "auto", np)
    check_output(model)
    return model


def check_output(model):
    """
    Output 'label' is {label, score, probabilities}: it needs a score per class, which
    only predict_proba gives (predict gives the class alone, and is sent as it is), and
    the classes. A model that cannot give it is refused now rather than at every record.
    """
    if model.output != "label":
        return
    name = type(model.estimator).__name__
    if model.method != "predict_proba":
        raise ValueError(f"output 'label' needs the method predict_proba (a score per class); {model.method} gives each record's class alone")
    if model.labels is None:
        raise ValueError(f"output 'label' needs the class labels, and {name} has no classes_")


def describe(model):
    return {
        "input_shape": list(model.input_shape) if model.input_shape else None,
        "labels": [str(label) for label in model.labels] if model.labels is not None else None,
        "feature_names": model.feature_names,
        "estimator": type(model.estimator).__name__,
        "method": model.method,
    }


def predict(model, batch):
    np = model.np
    # float64, as the numbers arrive: a cast to float32 would change the predictions of a
    # model fitted on float64 (scikit-learn converts to what the estimator needs itself)
    x = check_rows(np, batch, model.input_shape, "float64") if model.input_shape else np.asarray(batch, dtype="float64")
    if model.feature_names is not None:
        # an estimator fitted on a DataFrame expects its column names (without pandas it only warns)
        try:
            import pandas as pd

            x = pd.DataFrame(x, columns=model.feature_names)
        except ImportError:
            pass
    y = getattr(model.estimator, model.method)(x)
    if model.method == "predict_proba":
        return format_outputs(np, y, model.labels, model.output)
    # predict gives labels or values, one per row
    return [value.item() if hasattr(value, "item") else value for value in np.asarray(y)]
