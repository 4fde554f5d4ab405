"""The ceiling for the benchmark: the built-in Keras handler scoring batches in one
Python process, with no IPC and no Node-RED. Prints one JSON line."""

import argparse
import json
import os
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--model", required=True)
parser.add_argument("--rows", required=True, help="a JSON file of {features: [...]} rows")
parser.add_argument("--batch", type=int, default=64)
parser.add_argument("--backend", default="tensorflow")
parser.add_argument("--seconds", type=float, default=5.0)
args = parser.parse_args()

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "src", "python", "handlers"))
import keras_handler  # noqa: E402

model = keras_handler.load(args.model, {"backend": args.backend, "output": "auto"})
with open(args.rows, encoding="utf-8") as file:
    rows = [row["features"] for row in json.load(file)]
batch = [rows[i % len(rows)] for i in range(args.batch)]
for _ in range(20):  # warm up: compile, caches
    keras_handler.predict(model, batch)

scored = 0
start = time.perf_counter()
while time.perf_counter() - start < args.seconds:
    keras_handler.predict(model, batch)
    scored += len(batch)
elapsed = time.perf_counter() - start
print(json.dumps({"rows_per_s": scored / elapsed, "batch": args.batch, "backend": args.backend}))
