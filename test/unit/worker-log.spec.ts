import * as assert from "node:assert/strict";
import { WorkerLogSorter, type LogLevel } from "../../src/python/worker-log";

/** Feeds lines to a sorter and returns what it passed on. */
function sort(lines: string[]): [string, LogLevel][] {
  const entries: [string, LogLevel][] = [];
  const sorter = new WorkerLogSorter((text, level) => entries.push([text, level]));
  lines.forEach((line) => sorter.push(line));
  sorter.flush();
  return entries;
}

describe("WorkerLogSorter", () => {
  it("puts the start-up lines of TensorFlow and absl at debug level", () => {
    // as a Keras worker with the TensorFlow backend printed them here (TF_CPP_MIN_LOG_LEVEL=0)
    const startUp = [
      "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
      "I0000 00:00:1796556821.029788    7260 port.cc:153] oneDNN custom operations are on. You may see slightly different numerical results due to floating-point round-off errors from different computation orders. To turn them off, set the environment variable `TF_ENABLE_ONEDNN_OPTS=0`.",
      "I0000 00:00:1796556821.069374    7260 cpu_feature_guard.cc:227] This TensorFlow binary is optimized to use available CPU instructions in performance-critical operations.",
      "To enable the following instructions: AVX2 AVX512F AVX512_VNNI FMA, in other operations, rebuild TensorFlow with the appropriate compiler flags.",
      "E0000 00:00:1796556821.069374    7260 cuda_dnn.cc:8579] Unable to register cuDNN factory: Attempting to register factory for plugin cuDNN when one has already been registered",
    ];
    assert.deepEqual(
      sort(startUp).map(([, level]) => level),
      ["debug", "debug", "debug", "debug", "debug"],
    );
  });

  it("keeps a native error or warning that is not start-up chatter at warning level, and a native info line at info", () => {
    assert.deepEqual(
      sort([
        "W0000 00:00:1796556821.069374    7260 cpu_allocator_impl.cc:83] Allocation of 400000000 exceeds 10% of free system memory.",
        "E1207 14:03:22.123456    7260 op_kernel.cc:1830] OP_REQUIRES failed at matmul_op.cc:42",
        "I1207 14:03:22.123456    7260 device_compiler.h:188] Compiled cluster using XLA!",
      ]).map(([, level]) => level),
      ["warn", "warn", "info"],
    );
  });

  it("passes a traceback on as one warning, chained exceptions included", () => {
    const traceback = [
      "Traceback (most recent call last):",
      '  File "/models/handler.py", line 3, in load',
      "    return 1 / 0",
      "           ~~^~~",
      "ZeroDivisionError: division by zero",
      "During handling of the above exception, another exception occurred:",
      "Traceback (most recent call last):",
      '  File "/models/handler.py", line 5, in load',
      "KeyError: 'model'",
    ];
    assert.deepEqual(sort(["loading", ...traceback, "loaded"]), [
      ["loading", "info"],
      [traceback.slice(0, 5).join("\n"), "warn"],
      [traceback.slice(5).join("\n"), "warn"],
      ["loaded", "info"],
    ]);
  });

  it("passes on a traceback cut short when its stream ends", () => {
    assert.deepEqual(sort(["Traceback (most recent call last):", '  File "x.py", line 1, in <module>']), [['Traceback (most recent call last):\n  File "x.py", line 1, in <module>', "warn"]]);
  });

  it("puts Python warnings, with the source line they show, and logging warnings at warning level", () => {
    assert.deepEqual(
      sort([
        "/models/handler.py:7: UserWarning: the model was saved by a newer version",
        '  warnings.warn("the model was saved by a newer version")',
        "WARNING:absl:Compiled the loaded model, but the compiled metrics have yet to be built.",
        "  an indented print",
      ]).map(([, level]) => level),
      ["warn", "warn", "warn", "info"],
    );
  });
});
