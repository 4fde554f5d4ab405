"""Train the scikit-learn iris classifier used by the scikit-learn example flow.

Usage: python models/iris/train_sklearn.py [--out DIR]   (DIR defaults to this script's folder)

A scaler and a logistic regression in one pipeline, fitted on the same 80% split as
the Keras model (seed 42), so that both examples can be compared on holdout.json.
The file is a joblib pickle: it loads with the scikit-learn version of requirements.txt.
"""

import argparse
from pathlib import Path

import joblib
import numpy as np
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

SEED = 42
LABELS = np.array(["setosa", "versicolor", "virginica"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)

    iris = load_iris()
    x = iris.data  # sepal length, sepal width, petal length, petal width, in centimetres
    y = LABELS[iris.target]  # string classes: predict gives species names
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, stratify=y, random_state=SEED)

    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=SEED))
    model.fit(x_train, y_train)
    accuracy = float(np.mean(model.predict(x_test) == y_test))

    joblib.dump(model, out / "iris_logreg.joblib")
    print(f"wrote {out / 'iris_logreg.joblib'}: held-out accuracy {accuracy:.4f} on {len(x_test)} rows")


if __name__ == "__main__":
    main()
