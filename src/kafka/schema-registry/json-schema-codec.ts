import Ajv, { type AnySchema, type ValidateFunction } from "ajv";
import Ajv2019 from "ajv/dist/2019";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { SchemaMismatchError, type ResolvedSchema, type SchemaCodec } from "./schema-codec";

/** The validator for a schema's draft: 2020-12 and 2019-09 by their $schema, else draft-07 (which also reads draft-06 and -04 schemas' common part). */
function validatorFor(schema: { $schema?: string }): Ajv {
  const options = { strict: false, allErrors: false };
  const draft = schema.$schema ?? "";
  const ajv = draft.includes("2020-12") ? new Ajv2020(options) : draft.includes("2019-09") ? new Ajv2019(options) : new Ajv(options);
  addFormats(ajv);
  return ajv;
}

/**
 * A JSON Schema record is JSON text: read as it is (as Confluent's deserializer does by
 * default, without validating), and validated before it is written.
 */
export function jsonSchemaCodec(resolved: ResolvedSchema): SchemaCodec {
  const schema = JSON.parse(resolved.schema.schema) as AnySchema & { $schema?: string; title?: string };
  const ajv = validatorFor(schema);
  for (const reference of resolved.references) ajv.addSchema(JSON.parse(reference.schema.schema) as AnySchema, reference.name);
  let validate: ValidateFunction | undefined;
  return {
    type: "JSON",
    recordName: typeof schema === "object" ? schema.title : undefined,
    decode: (body) => JSON.parse(body.toString("utf8")) as unknown,
    encode: (value) => {
      validate ??= ajv.compile(schema);
      if (!validate(value)) {
        const [first] = validate.errors ?? [];
        const where = first?.instancePath ? first.instancePath.slice(1).replace(/\//g, ".") : "the record";
        throw new SchemaMismatchError(`the value does not fit the JSON schema: ${where} ${first?.message ?? "is invalid"}`);
      }
      return Buffer.from(JSON.stringify(value));
    },
  };
}
