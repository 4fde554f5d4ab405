"""The script a user would write instead of the flow, as the benchmark's baseline: plain
Python on Confluent's client (librdkafka), consuming up to --batch records, scoring them in
one call of the same Keras handler the python-model node runs, producing the results,
and committing once they are delivered (at least once). Prints "ready" once the model is
loaded, then runs until it is killed; the benchmark times its output topic."""

import argparse
import json
import os
import sys

from confluent_kafka import Consumer, Producer

parser = argparse.ArgumentParser()
parser.add_argument("--brokers", required=True)
parser.add_argument("--input", required=True)
parser.add_argument("--output", required=True)
parser.add_argument("--group", required=True)
parser.add_argument("--model", required=True)
parser.add_argument("--backend", default="tensorflow")
parser.add_argument("--batch", type=int, default=500)
args = parser.parse_args()

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "src", "python", "handlers"))
import keras_handler  # noqa: E402

model = keras_handler.load(args.model, {"backend": args.backend, "output": "auto"})
consumer = Consumer({"bootstrap.servers": args.brokers, "group.id": args.group, "enable.auto.commit": False, "auto.offset.reset": "earliest"})
producer = Producer({"bootstrap.servers": args.brokers, "acks": "all"})
consumer.subscribe([args.input])
print("ready", flush=True)

while True:
    records = [record for record in consumer.consume(args.batch, timeout=0.2) if record.error() is None]
    if not records:
        continue
    results = keras_handler.predict(model, [json.loads(record.value())["features"] for record in records]).rows()
    for record, result in zip(records, results):
        producer.produce(args.output, json.dumps(result).encode(), key=record.key())
    producer.flush()
    consumer.commit(asynchronous=False)
