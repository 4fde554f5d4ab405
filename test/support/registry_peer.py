"""Confluent's own Python serializers (confluent-kafka's schema_registry) as the other end of the registry tests.

Usage:
  python registry_peer.py serialize   URL TOPIC avro|json SCHEMA_FILE < values.json  -> a JSON list of hex records
  python registry_peer.py deserialize URL TOPIC avro|json              < hex.json     -> a JSON list of values
  python registry_peer.py serialize|deserialize URL TOPIC protobuf PROTO_DIR PROTO_FILE MESSAGE < ...

Protobuf: PROTO_FILE (in PROTO_DIR, with the files it imports) is compiled with protoc
(grpcio-tools) and MESSAGE is the message written or read; values cross as protobuf's
JSON mapping with the field names as declared and every field present (64-bit
integers as strings, enums by name).

The serializer registers the schema under "<TOPIC>-value" (Confluent's default). Values
cross as JSON, with the Avro logical types as the nodes give them: decimal as a string
of its exact value, timestamp-millis as milliseconds, date as days since 1970-01-01,
uuid as a string.
"""

import datetime
import decimal
import json
import os
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


def protobuf_class(proto_dir, proto_file, message):
    """The generated class of MESSAGE, compiled from PROTO_FILE by protoc into a folder of its own."""
    import importlib
    import tempfile

    from grpc_tools import protoc

    out = tempfile.mkdtemp(prefix="registry-peer-protoc-")
    status = protoc.main(["protoc", f"-I{proto_dir}", f"--python_out={out}", *[name for name in os.listdir(proto_dir) if name.endswith(".proto")]])
    if status != 0:
        raise RuntimeError(f"protoc failed ({status}) on {proto_dir}")
    sys.path.insert(0, out)
    module = importlib.import_module(proto_file.replace(".proto", "_pb2"))
    return getattr(module, message)


def protobuf_main(action, client, context):
    from google.protobuf import json_format
    from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer

    message_class = protobuf_class(*sys.argv[5:8])
    if action == "serialize":
        serializer = ProtobufSerializer(message_class, client, {"use.deprecated.format": False})
        values = json.load(sys.stdin)
        print(json.dumps([serializer(json_format.ParseDict(value, message_class()), context).hex() for value in values]))
        return
    deserializer = ProtobufDeserializer(message_class, {"use.deprecated.format": False})
    records = [bytes.fromhex(text) for text in json.load(sys.stdin)]
    as_dict = lambda message: json_format.MessageToDict(message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True)  # noqa: E731
    print(json.dumps([as_dict(deserializer(record, context)) for record in records]))


def main():
    action, url, topic, kind = sys.argv[1:5]
    # a request the registry leaves unanswered (Apicurio did, about once in 30 runs of
    # the specs) times out and is sent again by the client, instead of hanging the peer
    client = SchemaRegistryClient({"url": url, "timeout": 5})
    # keys when asked (subject <topic>-key), values otherwise
    field = MessageField.KEY if os.environ.get("PEER_FIELD") == "key" else MessageField.VALUE
    context = SerializationContext(topic, field)
    if kind == "protobuf":
        protobuf_main(action, client, context)
        return
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
