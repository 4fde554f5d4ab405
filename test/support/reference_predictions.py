"""What the original models say, for comparing the node's results with them.

Usage: python reference_predictions.py keras|sklearn|sklearn-labels MODEL_FILE < rows.json
Prints a JSON list: a row of class probabilities per input row (keras: the model's
predict_on_batch; sklearn: predict_proba), or the classes of predict (sklearn-labels).
"""

import json
import os
import sys


def main():
    kind, path = sys.argv[1], sys.argv[2]
    rows = json.load(sys.stdin)
    if kind == "keras":
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import keras
        import numpy as np

        model = keras.saving.load_model(path, compile=False)
        print(json.dumps(np.asarray(model.predict_on_batch(np.asarray(rows, dtype="float32"))).tolist()))
        return
    import joblib
    import numpy as np

    estimator = joblib.load(path)
    x = np.asarray(rows, dtype="float64")
    result = estimator.predict(x) if kind == "sklearn-labels" else estimator.predict_proba(x)
    print(json.dumps(np.asarray(result).tolist()))


if __name__ == "__main__":
    main()
