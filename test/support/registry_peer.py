"""Confluent's own Python serializers (confluent-kafka's schema_registry) as the other end of the registry tests.

Usage:
  python registry_peer.py serialize   URL TOPIC avro|json SCHEMA_FILE < values.json  -> a JSON list of hex records
  python registry_peer.py deserialize URL TOPIC avro|json              < hex.json     -> a JSON list of values

The serializer registers the schema under "<TOPIC>-value" (Confluent's default). Values
cross as JSON, with the Avro logical types as the nodes give them: decimal as a string
of its exact value, timestamp-millis as milliseconds, date as days since 1970-01-01,
uuid as a string.
"""

import datetime
import decimal
import json
import sys
import uuid

from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.serialization import MessageField, SerializationContext

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def to_python(value, schema):
    """JSON values into what fastavro takes for the schema's logical types."""
    if isinstance(schema, list):
        return value  # unions of null and a plain type, in these tests
    kind = schema if isinstance(schema, str) else schema.get("type")
    logical = schema.get("logicalType") if isinstance(schema, dict) else None
    if logical == "decimal":
        return decimal.Decimal(value)
    if logical == "timestamp-millis":
        return EPOCH + datetime.timedelta(milliseconds=value)
    if logical == "date":
        return datetime.date(1970, 1, 1) + datetime.timedelta(days=value)
    if logical == "uuid":
        return uuid.UUID(value)
    if kind == "record":
        return {field["name"]: to_python(value[field["name"]], field["type"]) for field in schema["fields"]}
    if kind == "array":
        return [to_python(item, schema["items"]) for item in value]
    return value


def to_json(value):
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime):
        return round((value - EPOCH).total_seconds() * 1000)
    if isinstance(value, datetime.date):
        return (value - datetime.date(1970, 1, 1)).days
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_json(item) for item in value]
    return value


def main():
    action, url, topic, kind = sys.argv[1:5]
    client = SchemaRegistryClient({"url": url})
    context = SerializationContext(topic, MessageField.VALUE)
    if kind == "avro":
        from confluent_kafka.schema_registry.avro import AvroDeserializer as Deserializer
        from confluent_kafka.schema_registry.avro import AvroSerializer as Serializer
    else:
        from confluent_kafka.schema_registry.json_schema import JSONDeserializer as Deserializer
        from confluent_kafka.schema_registry.json_schema import JSONSerializer as Serializer
    if action == "serialize":
        with open(sys.argv[5], encoding="utf-8") as file:
            schema_text = file.read()
        serializer = Serializer(schema_text, client) if kind == "json" else Serializer(client, schema_text)
        schema = json.loads(schema_text)
        values = json.load(sys.stdin)
        records = [serializer(to_python(value, schema) if kind == "avro" else value, context) for value in values]
        print(json.dumps([record.hex() for record in records]))
    else:
        deserializer = Deserializer(None, schema_registry_client=client) if kind == "json" else Deserializer(client)
        records = [bytes.fromhex(text) for text in json.load(sys.stdin)]
        print(json.dumps([to_json(deserializer(record, context)) for record in records]))


if __name__ == "__main__":
    main()
