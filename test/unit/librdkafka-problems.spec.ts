import * as assert from "node:assert/strict";
import * as sinon from "sinon";
import type { LogLevel } from "../../src/kafka/engine";
import { isRefusedLogin, NativeProblems } from "../../src/kafka/engines/librdkafka/problems";

/** What the librdkafka engine makes of librdkafka's log (lines as librdkafka 2.x writes them). */
describe("the librdkafka engine's log", () => {
  const HANDSHAKE =
    "[thrd:ssl://127.0.0.1:9093/bootstrap]: ssl://127.0.0.1:9093/bootstrap: SSL handshake failed: error:0A000086:SSL routines::certificate verify failed: broker certificate could not be verified (after 5ms in state SSL_HANDSHAKE, 1 identical error(s) suppressed)";
  const LOGIN =
    "[thrd:sasl_ssl://127.0.0.1:9094/bootstrap]: sasl_ssl://127.0.0.1:9094/bootstrap: SASL authentication error: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512 (after 330ms in state AUTH_REQ)";

  function problems(): { lines: [LogLevel, string][]; reported: string[]; native: NativeProblems } {
    const lines: [LogLevel, string][] = [];
    const reported: string[] = [];
    const native = new NativeProblems(
      (level, text) => lines.push([level, text]),
      (reason) => reported.push(reason),
    );
    return { lines, reported, native };
  }

  afterEach(() => sinon.restore());

  it("gives a failure's reason alone: no thread, broker or state, no OpenSSL error code", () => {
    const { lines, reported, native } = problems();
    const reason = native.logged({ severity: 3, fac: "FAIL", message: HANDSHAKE });
    assert.equal(reason, "SSL handshake failed: certificate verify failed: broker certificate could not be verified");
    assert.deepEqual(reported, [reason]);
    assert.deepEqual(lines, [["warn", reason]]);
  });

  it("keeps warnings at debug level and out of the nodes' status, and ignores lesser lines", () => {
    const { lines, reported, native } = problems();
    assert.equal(native.logged({ severity: 4, fac: "CONFWARN", message: "Configuration property x is deprecated" }), undefined);
    assert.equal(native.logged({ severity: 7, fac: "BROKER", message: "chatter" }), undefined);
    assert.deepEqual(reported, []);
    assert.deepEqual(lines, [["debug", "Configuration property x is deprecated"]]);
  });

  it("explains an error event by the reason logged just before it, and only then", () => {
    const clock = sinon.useFakeTimers({ now: 1_000_000 });
    const { native } = problems();
    const generic = Object.assign(new Error("authentication failure"), { code: -169, isFatal: false });
    assert.equal(native.explained(generic), generic, "nothing logged yet");
    native.logged({ severity: 3, fac: "FAIL", message: LOGIN });
    const explained = native.explained(generic);
    assert.match(explained.message, /^SASL authentication error: Authentication failed/);
    assert.equal(explained.code, -169);
    clock.tick(5_000);
    assert.equal(native.explained(generic), generic, "a reason logged long before is another failure's");
    assert.match(native.explained(generic, 30_000).message, /^SASL authentication error/, "unless the error covers that long (a connect timeout)");
  });

  it("reports an error event on its own, unless a failure logged just before said it already", () => {
    const clock = sinon.useFakeTimers({ now: 1_000_000 });
    const { reported, native } = problems();
    const fatal = Object.assign(new Error("Fatal idempotent producer error"), { code: -150, isFatal: true });
    native.errored(fatal);
    assert.deepEqual(reported, ["Fatal idempotent producer error"]);
    native.logged({ severity: 3, fac: "FAIL", message: LOGIN });
    native.errored(Object.assign(new Error("authentication failure"), { code: -169 }));
    assert.equal(reported.length, 2, "the logged reason, not the generic error after it");
    clock.tick(5_000);
    native.errored(fatal);
    assert.equal(reported.at(-1), "Fatal idempotent producer error");
  });

  it("tells a refused login from other failures", () => {
    const { native } = problems();
    assert.equal(isRefusedLogin(native.logged({ severity: 3, fac: "FAIL", message: LOGIN }) ?? ""), true);
    assert.equal(isRefusedLogin(native.logged({ severity: 3, fac: "FAIL", message: HANDSHAKE }) ?? ""), false);
  });
});
