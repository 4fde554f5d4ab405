"""Confluent's Python client (librdkafka) as a Kafka peer independent of kafkajs, for the tests.

    confluent_peer.py produce BROKERS TOPIC COMPRESSION   < records as JSON lines
    confluent_peer.py consume BROKERS TOPIC COUNT         > records as JSON lines

A record is {"key", "value", "headers": [[name, value], ...]}; keys and values (header
values too) travel base64-encoded so that every byte survives, null for none. Both work
on partition 0. Failures exit with a message on stderr and a non-zero status.
"""

import base64
import json
import sys

from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition


def encoded(data):
    return None if data is None else base64.b64encode(data).decode("ascii")


def decoded(text):
    return None if text is None else base64.b64decode(text)


def produce(brokers, topic, compression):
    # a linger long enough that the records leave as one compressed batch
    producer = Producer({"bootstrap.servers": brokers, "compression.type": compression, "linger.ms": 100})
    failures = []

    def report(error, _message):
        if error is not None:
            failures.append(str(error))

    for line in sys.stdin:
        record = json.loads(line)
        headers = [(name, decoded(value)) for name, value in record["headers"]]
        producer.produce(topic, key=decoded(record["key"]), value=decoded(record["value"]), headers=headers, partition=0, on_delivery=report)
    left = producer.flush(60)
    if left or failures:
        sys.exit(f"{left} records not written; failures: {failures}")


def consume(brokers, topic, count):
    consumer = Consumer({"bootstrap.servers": brokers, "group.id": f"confluent-peer-{topic}", "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    try:
        for read in range(count):
            message = consumer.poll(60)
            if message is None:
                sys.exit(f"only {read} of {count} records arrived from {topic}")
            if message.error():
                sys.exit(f"reading {topic}: {message.error()}")
            headers = [[name, encoded(value)] for name, value in message.headers() or []]
            print(json.dumps({"offset": message.offset(), "key": encoded(message.key()), "value": encoded(message.value()), "headers": headers}), flush=True)
    finally:
        consumer.close()


if __name__ == "__main__":
    command, brokers, topic, argument = sys.argv[1:5]
    if command == "produce":
        produce(brokers, topic, argument)
    elif command == "consume":
        consume(brokers, topic, int(argument))
    else:
        sys.exit(f"unknown command {command}: produce or consume")
