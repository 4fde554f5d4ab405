"""H2O's own in-cluster predictions for some rows: the reference the h2o handler is checked against.

Usage: python models/h2o/h2o_predict.py MOJO ROWS_JSON

ROWS_JSON is a list of rows, each a dict of named columns (None, or a column left out,
is a missing value), or holdout.json, whose entry named for the MOJO's file is used.
Starts a local H2O of its own (a JVM: a few seconds), imports the MOJO, predicts the rows as one
frame with H2O's predict, shuts H2O down, and prints a JSON list, one item per row:
  classifier: {"label": "...", "probabilities": {"<label>": p, ...}}
  regressor:  {"value": x}
Categorical columns are uploaded as categorical and the others as numbers, as the model
was trained, whatever the values look like: give levels as strings (a number 2.0 would
be the level "2.0"). A level the model does not know becomes a missing value, as H2O's
predict makes it.
"""

import argparse
import contextlib
import json
import os
import sys
import tempfile
from pathlib import Path

import h2o
from h2o.backend import H2OLocalServer


@contextlib.contextmanager
def local_h2o(max_mem_size=512 << 20, nthreads=1):
    """
    A local H2O of our own for the block, stopped after: on the first free port from
    54321, so never an H2O someone else runs (h2o.init() would join, then stop, that one).
    Its logs and scratch files go into a temporary folder removed after it.
    """
    with tempfile.TemporaryDirectory(prefix="h2o-") as scratch:
        saved, tempfile.tempdir = tempfile.tempdir, scratch  # H2O makes its folders with mkdtemp()
        try:
            with contextlib.redirect_stdout(sys.stderr):  # its start-up chatter
                server = H2OLocalServer.start(nthreads=nthreads, max_mem_size=max_mem_size, verbose=False)
        finally:
            tempfile.tempdir = saved
        try:
            with contextlib.redirect_stdout(sys.stderr):
                connection = h2o.connect(server=server, verbose=False)
            h2o.no_progress()
            try:
                yield
            finally:
                connection.close()
        finally:
            server.shutdown()


def read_rows(path, mojo):
    with open(path, encoding="utf-8") as file:
        rows = json.load(file)
    return rows[os.path.basename(mojo)]["rows"] if isinstance(rows, dict) else rows


def input_columns(model):
    """The model's input columns in order, each with its levels (None for a numeric column)."""
    output = model._model_json["output"]
    columns = list(zip(output["names"], output["domains"]))
    # a supervised model's last column is its response
    return columns[:-1] if output["model_category"] in ("Binomial", "Multinomial", "Ordinal", "Regression") else columns


def rows_frame(rows, columns):
    values = {name: [row.get(name) for row in rows] for name, _ in columns}
    types = {name: "enum" if domain is not None else "real" for name, domain in columns}
    return h2o.H2OFrame(values, column_types=types)


def predictions(model, frame):
    table = model.predict(frame).as_data_frame(use_pandas=False, header=True)
    header, body = table[0], table[1:]
    if header == ["predict"]:
        return [{"value": float(row[0])} for row in body]
    labels = header[1:]
    return [{"label": row[0], "probabilities": {label: float(p) for label, p in zip(labels, row[1:])}} for row in body]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mojo", type=Path)
    parser.add_argument("rows", type=Path)
    args = parser.parse_args()
    rows = read_rows(args.rows, args.mojo)

    # stdout carries the result alone
    with local_h2o(), contextlib.redirect_stdout(sys.stderr):
        model = h2o.import_mojo(str(args.mojo.resolve()))
        result = predictions(model, rows_frame(rows, input_columns(model)))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
