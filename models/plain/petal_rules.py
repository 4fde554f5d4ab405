"""A plain Python model: iris species from petal size by two thresholds, no ML library.

It shows the handler contract every python-model node speaks:
  load(path, config) -> model      called once when the node starts
  predict(model, batch) -> results called per micro-batch, one result per row
"""


def load(path, config):
    # path is the node's model file, unused here; config carries the node's settings
    return {"setosa_below_cm": 2.5, "versicolor_below_cm": 1.75}


def predict(model, batch):
    results = []
    for row in batch:
        if len(row) != 4:
            raise ValueError(f"expected 4 features (sepal length, sepal width, petal length, petal width), got {len(row)}")
        petal_length, petal_width = float(row[2]), float(row[3])
        if petal_length < model["setosa_below_cm"]:
            label = "setosa"
        elif petal_width < model["versicolor_below_cm"]:
            label = "versicolor"
        else:
            label = "virginica"
        results.append({"label": label})
    return results
