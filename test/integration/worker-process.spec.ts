import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { PythonException, WorkerExitedError, WorkerProcess } from "../../src/python/worker-process";
import { HOLDOUT, IRIS_MODEL, PYTHON, isRunning, waitFor, writeHandler } from "../support/python";

const ECHO_HANDLER = writeHandler(
  "echo_handler",
  `
import time
print("user code printing to stdout must not break the protocol")

def load(path, config):
    return {"scale": config.get("scale", 1)}

def predict(model, batch):
    print("predicting", len(batch))
    out = []
    for row in batch:
        if row == "raise":
            raise ValueError("this row is bad")
        if row == "sleep":
            time.sleep(30)
        out.append(row * model["scale"] if isinstance(row, (int, float)) else row)
    return out
`,
);

/** Linux's number for the SCHED_BATCH policy (include/uapi/linux/sched.h). */
const SCHED_BATCH = 3;

/** Each thread's name and scheduling policy: field 41 of /proc/<pid>/task/<tid>/stat (proc(5)). */
function schedulingPolicies(pid: number): { name: string; policy: number }[] {
  return fs.readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
    // the name, in parentheses, may itself hold spaces and parentheses; fields from 3 follow the last ")"
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { name: stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")), policy: Number(fields[41 - 3]) };
  });
}

function startEcho(lines: string[] = []): WorkerProcess {
  return new WorkerProcess({ python: PYTHON, onLog: (line) => lines.push(line) });
}

/** The worker process and its protocol, against a real Python. */
describe("Python worker process (real Python)", () => {
  const workers: WorkerProcess[] = [];
  const started = (lines?: string[]): WorkerProcess => {
    const worker = startEcho(lines);
    workers.push(worker);
    return worker;
  };
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.stop()));
  });

  it("loads a handler once and answers pipelined requests each with its own results", async () => {
    const lines: string[] = [];
    const worker = started(lines);
    const info = await worker.load({ kind: "python", model_path: "", handler_path: ECHO_HANDLER, config: { scale: 3 } });
    assert.equal(info.pid, worker.pid);
    const requests = Array.from({ length: 50 }, (_, i) => worker.predict([i, i + 0.5]));
    const replies = await Promise.all(requests);
    replies.forEach((results, i) => assert.deepEqual(results, [{ ok: true, value: i * 3 }, { ok: true, value: (i + 0.5) * 3 }]));
    await waitFor(() => lines.some((line) => line.includes("must not break the protocol")), 5000, "user prints in the log");
  });

  it("waits for the pipe to drain under large pipelined requests and answers each correctly", async () => {
    const worker = started();
    await worker.load({ kind: "python", model_path: "", handler_path: ECHO_HANDLER, config: {} });
    const big = (seed: number) => Array.from({ length: 100_000 }, (_, index) => seed + index); // ~0.7 MB of JSON a request
    const replies = await Promise.all(Array.from({ length: 20 }, (_, seed) => worker.predict([big(seed)])));
    replies.forEach((results, seed) => {
      const value = (results[0] as { ok: true; value: number[] }).value;
      assert.equal(value.length, 100_000);
      assert.equal(value[99_999], seed + 99_999);
    });
  });

  it("cuts very long log lines so that a chatty library cannot flood memory", async () => {
    const chatty = writeHandler("chatty", 'print("x" * 50000)\ndef load(p, c):\n    return None\ndef predict(m, b):\n    return b\n');
    const lines: string[] = [];
    const worker = new WorkerProcess({ python: PYTHON, onLog: (line) => lines.push(line) });
    workers.push(worker);
    await worker.load({ kind: "python", model_path: "", handler_path: chatty, config: {} });
    await waitFor(() => lines.some((line) => line.startsWith("xxxx")), 5000, "the long line in the log");
    assert.ok(lines.every((line) => line.length <= 2000), `longest line ${Math.max(...lines.map((line) => line.length))}`);
  });

  it("fails only the row that raised, with the Python exception type and message", async () => {
    const worker = started();
    await worker.load({ kind: "python", model_path: "", handler_path: ECHO_HANDLER, config: {} });
    const results = await worker.predict([1, "raise", 2]);
    assert.deepEqual(results[0], { ok: true, value: 1 });
    assert.equal(results[1].ok, false);
    assert.deepEqual(!results[1].ok && [results[1].error.type, results[1].error.message], ["ValueError", "this row is bad"]);
    assert.deepEqual(results[2], { ok: true, value: 2 });
  });

  it("rejects pending requests with the exit reason when the process is killed, without throwing EPIPE", async () => {
    const worker = started();
    await worker.load({ kind: "python", model_path: "", handler_path: ECHO_HANDLER, config: {} });
    const stuck = worker.predict(["sleep"]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    process.kill(worker.pid as number, "SIGKILL");
    const error = await stuck.then(
      () => assert.fail("a killed worker cannot answer"),
      (failure: unknown) => failure,
    );
    assert.ok(error instanceof WorkerExitedError);
    assert.match(error.message, /SIGKILL/);
    // writing to the dead process must fail the request, not crash Node
    await assert.rejects(worker.predict([1]), WorkerExitedError);
  });

  it("reports a handler that does not load as a Python exception", async () => {
    const broken = writeHandler("broken", "import no_such_module_here\n");
    const worker = started();
    const error = await worker.load({ kind: "python", model_path: "", handler_path: broken, config: {} }).catch((failure: Error) => failure);
    assert.ok(error instanceof PythonException);
    assert.equal(error.name, "ModuleNotFoundError");
    assert.match(error.message, /no_such_module_here is not installed in .*\(.*python.*\)/);
  });

  it("reports an interpreter that does not exist instead of crashing", async () => {
    const worker = new WorkerProcess({ python: "/nonexistent/bin/python" });
    const exit = await worker.exited;
    assert.match(exit.spawnError?.message ?? "", /ENOENT/);
    await assert.rejects(worker.predict([1]), WorkerExitedError);
  });

  it("builds from the numbers a built-in handler sends the same results Python builds itself", async function () {
    this.timeout(120_000);
    // the same Keras handler behind a handler of the user's kind: its rows and results travel as JSON
    const asJson = writeHandler(
      "keras_as_json",
      "import keras_handler\ndef load(path, config):\n    return keras_handler.load(path, config)\ndef predict(model, batch):\n    return keras_handler.predict(model, batch).rows()\n",
    );
    const rows = HOLDOUT.map((row) => row.features);
    for (const output of ["label", "raw"]) {
      const config = { backend: "tensorflow", output, max_batch: 32 };
      const [numeric, json] = [started(), started()];
      await Promise.all([
        numeric.load({ kind: "keras", model_path: IRIS_MODEL, handler_path: "", config }),
        json.load({ kind: "python", model_path: IRIS_MODEL, handler_path: asJson, config }),
      ]);
      const [fromNumbers, fromJson] = await Promise.all([numeric.predict(rows), json.predict(rows)]);
      assert.equal(fromNumbers.length, rows.length);
      assert.ok(fromNumbers.every((result) => result.ok));
      assert.deepEqual(fromNumbers, fromJson, `output ${output}`);
    }
  });

  it("runs as a batch job (SCHED_BATCH), TensorFlow's threads included, so that a new batch does not preempt Node-RED", async function () {
    this.timeout(120_000);
    const worker = started();
    await worker.load({ kind: "keras", model_path: IRIS_MODEL, handler_path: "", config: { backend: "tensorflow", output: "label", max_batch: 8 } });
    await worker.predict(HOLDOUT.slice(0, 4).map((row) => row.features));
    const threads = schedulingPolicies(worker.pid as number);
    assert.ok(threads.length > 2, `threads: ${JSON.stringify(threads)}`);
    assert.deepEqual(threads.filter((thread) => thread.policy !== SCHED_BATCH), []);
  });

  it("leaves no process behind after stop", async () => {
    const worker = started();
    await worker.load({ kind: "python", model_path: "", handler_path: ECHO_HANDLER, config: {} });
    const pid = worker.pid as number;
    await worker.stop();
    assert.equal(isRunning(pid), false);
  });
});
