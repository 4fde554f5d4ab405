"""Train the two example H2O models and export them as MOJOs, with held-out rows to score.

Usage: python models/h2o/train.py [--out DIR]   (DIR defaults to this script's folder)

Needs the PyPI h2o of requirements.txt (3.46.0.11: 3.46.0.12 refuses MOJO export) and a
Java 17: a local H2O JVM of its own is started for the training and stopped after.

- breast_cancer_gbm.zip: a GBM binomial classifier ("benign" / "malignant") on
  scikit-learn's breast-cancer data, where the tumour's size columns (radius, perimeter
  and area; mean and worst) give way to a categorical "size", the worst area binned into
  the string levels "small", "medium" and "large", so that the model leans on it.
- diabetes_glm.zip: a GLM (gaussian) regressor of disease progression on
  scikit-learn's diabetes data (raw, unscaled values), with "sex" as a categorical
  column of the levels "1" and "2" (the dataset codes sex so and does not say which is which).

Both are trained on a stratified / seeded 80% split; holdout.json holds rows of the
other 20% as dicts of named columns, the truth beside them, and a few edited rows: an
unknown categorical level, a missing (None) value, an absent column.
"""

import argparse
import json
from pathlib import Path

import h2o
import numpy as np
from h2o.estimators import H2OGeneralizedLinearEstimator, H2OGradientBoostingEstimator
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.model_selection import train_test_split

from h2o_predict import local_h2o

SEED = 42
HOLDOUT_ROWS = 20
# the columns that say the tumour's size: "size" stands for them
SIZE_COLUMNS = [f"{kind}_{measure}" for kind in ("mean", "worst") for measure in ("radius", "perimeter", "area")]


def area_size(area):
    return "small" if area < 600 else "medium" if area < 1000 else "large"


def breast_cancer():
    """Columns (name -> list of values), the target's name, and the categorical columns."""
    data = load_breast_cancer()
    names = [name.replace(" ", "_") for name in data.feature_names]
    columns = {name: data.data[:, i].tolist() for i, name in enumerate(names) if name not in SIZE_COLUMNS}
    columns["size"] = [area_size(area) for area in data.data[:, names.index("worst_area")]]
    columns["diagnosis"] = [str(data.target_names[t]) for t in data.target]
    return columns, "diagnosis", ["size", "diagnosis"]


def diabetes():
    data = load_diabetes(scaled=False)
    columns = {name: data.data[:, i].tolist() for i, name in enumerate(data.feature_names)}
    columns["sex"] = [str(int(code)) for code in columns["sex"]]
    columns["progression"] = data.target.tolist()
    return columns, "progression", ["sex"]


def split(columns, target, stratify):
    """Row indices of the training and the held-out part."""
    rows = np.arange(len(columns[target]))
    return train_test_split(rows, test_size=0.2, random_state=SEED, stratify=columns[target] if stratify else None)


def frame(columns, rows, categorical):
    picked = {name: [values[i] for i in rows] for name, values in columns.items()}
    types = {name: "enum" if name in categorical else "real" for name in columns}
    return h2o.H2OFrame(picked, column_types=types)


def where(rows, column, value):
    """The indices of the rows whose column has this value."""
    return [index for index, row in enumerate(rows) if row[column] == value]


def holdout(columns, target, rows):
    """Held-out rows as dicts of the model's input columns, and the truth of each."""
    inputs = [name for name in columns if name != target]
    return [{name: columns[name][i] for name in inputs} for i in rows], [columns[target][i] for i in rows]


def train_gbm():
    columns, target, categorical = breast_cancer()
    train, test = split(columns, target, stratify=True)
    model = H2OGradientBoostingEstimator(model_id="breast_cancer_gbm", ntrees=40, max_depth=3, learn_rate=0.1, seed=SEED)
    model.train(y=target, training_frame=frame(columns, train, categorical))
    performance = model.model_performance(frame(columns, test, categorical))
    rows, truth = holdout(columns, target, test[:HOLDOUT_ROWS])
    # an unknown level and a missing one where the level matters, and a column left out
    edited = [where(rows, "size", "large")[0], where(rows, "size", "small")[0], 0]
    edited_rows = [dict(rows[edited[0]], size="huge"), dict(rows[edited[1]], size=None), dict(rows[edited[2]], mean_texture=None)]
    del edited_rows[2]["worst_concave_points"]
    truth += [truth[index] for index in edited]
    return model, {"rows": rows + edited_rows, "truth": truth}, f"held-out AUC {performance.auc():.4f} on {len(test)} rows"


def train_glm():
    columns, target, categorical = diabetes()
    train, test = split(columns, target, stratify=False)
    model = H2OGeneralizedLinearEstimator(model_id="diabetes_glm", family="gaussian", lambda_=0, seed=SEED)
    model.train(y=target, training_frame=frame(columns, train, categorical))
    performance = model.model_performance(frame(columns, test, categorical))
    rows, truth = holdout(columns, target, test[:HOLDOUT_ROWS])
    # an unknown level and a missing one on rows of the level that is not the most common, and a missing number
    edited = [*where(rows, "sex", "2")[:2], 0]
    edited_rows = [dict(rows[edited[0]], sex="3"), dict(rows[edited[1]], sex=None), dict(rows[edited[2]], bmi=None)]
    truth += [truth[index] for index in edited]
    return model, {"rows": rows + edited_rows, "truth": truth}, f"held-out RMSE {performance.rmse():.2f} on {len(test)} rows"


def holdout_json(held_out):
    """One row a line, to read and diff."""
    models = []
    for name, entry in held_out.items():
        rows = ",\n      ".join(json.dumps(row) for row in entry["rows"])
        models.append(f'  {json.dumps(name)}: {{\n    "truth": {json.dumps(entry["truth"])},\n    "rows": [\n      {rows}\n    ]\n  }}')
    return "{\n" + ",\n".join(models) + "\n}\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)

    held_out = {}
    with local_h2o(max_mem_size=1 << 30, nthreads=2):
        for train in (train_gbm, train_glm):
            model, rows, quality = train()
            mojo = Path(model.download_mojo(path=str(out)))
            held_out[mojo.name] = rows
            print(f"wrote {mojo} ({mojo.stat().st_size} bytes): {quality}")
    with open(out / "holdout.json", "w", encoding="utf-8") as file:
        file.write(holdout_json(held_out))
    print(f"wrote {out / 'holdout.json'}")


if __name__ == "__main__":
    main()
