import * as assert from "node:assert/strict";
import { permanentRefusal } from "../../src/kafka/engines/kafkajs/refusals";

/** Errors shaped as kafkajs 2.2.4 reports them (read from its errors.js and retry/index.js). */
function protocolError(type: string, retriable: boolean): Error {
  return Object.assign(new Error(type), { name: "KafkaJSProtocolError", type, retriable });
}
function wrapped(name: string, cause: Error): Error {
  return Object.assign(new Error(cause.message), { name, retriable: false, cause });
}

describe("which produce failures are refusals for good", () => {
  it("a record too large, a topic not allowed: the broker's answer itself or wrapped by kafkajs", () => {
    assert.equal(permanentRefusal(protocolError("MESSAGE_TOO_LARGE", false)), "MESSAGE_TOO_LARGE");
    assert.equal(permanentRefusal(wrapped("KafkaJSNonRetriableError", protocolError("TOPIC_AUTHORIZATION_FAILED", false))), "TOPIC_AUTHORIZATION_FAILED");
  });

  it("a topic still unknown after kafkajs's retries (the broker does not create topics)", () => {
    assert.equal(permanentRefusal(wrapped("KafkaJSNumberOfRetriesExceeded", protocolError("UNKNOWN_TOPIC_OR_PARTITION", true))), "UNKNOWN_TOPIC_OR_PARTITION");
  });

  it("a topic name kafkajs itself refuses", () => {
    assert.equal(permanentRefusal(Object.assign(new Error("Invalid topic"), { name: "KafkaJSNonRetriableError" })), "INVALID_TOPIC_EXCEPTION");
  });

  it("not a broker out of reach, a timeout, a leader moving, or an error of unknown shape", () => {
    const refused = Object.assign(new Error("Connection error: connect ECONNREFUSED"), { name: "KafkaJSConnectionError" });
    assert.equal(permanentRefusal(wrapped("KafkaJSNumberOfRetriesExceeded", refused)), undefined);
    assert.equal(permanentRefusal(Object.assign(new Error("Request Produce timed out"), { name: "KafkaJSRequestTimeoutError" })), undefined);
    assert.equal(permanentRefusal(wrapped("KafkaJSNumberOfRetriesExceeded", protocolError("NOT_LEADER_FOR_PARTITION", true))), undefined);
    assert.equal(permanentRefusal(new Error("anything")), undefined);
    assert.equal(permanentRefusal("a string"), undefined);
  });
});
