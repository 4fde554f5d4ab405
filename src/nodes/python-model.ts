import type { Node, NodeAPI, NodeMessageInFlow } from "node-red";
import { settleMessage } from "../kafka/settlement";
import { resolveUserPath } from "../package-paths";
import { extractFeatures } from "../python/features";
import { resolveInterpreter } from "../python/interpreter";
import { MicroBatcher } from "../python/micro-batcher";
import { ModelRunner, type ModelSpec, type RunnerState } from "../python/model-runner";
import type { RowResult } from "../python/protocol";
import { PythonException } from "../python/worker-process";
import { numberSetting, type PythonModelDef } from "./node-config";
import { showStatus } from "./status";

/** Batches handed to Python at once: one being scored, the next already in the pipe. */
const BATCHES_IN_FLIGHT = 2;
/** Records that may wait for the model (while it loads, or when Python falls behind). */
const MAX_WAITING = 10_000;
const RATE_INTERVAL_MS = 1000;

export = function registerPythonModel(RED: NodeAPI): void {
  function PythonModel(this: Node, config: PythonModelDef): void {
    RED.nodes.createNode(this, config);
    const userDir = RED.settings.userDir as string | undefined;

    let spec: ModelSpec;
    try {
      spec = modelSpec(config, userDir, (key) => RED._(`python-model.errors.${key}`));
    } catch (error) {
      const message = (error as Error).message;
      showStatus(this, "error", message);
      this.error(message);
      this.on("input", (msg: NodeMessageInFlow, _send, done) => {
        settleMessage(msg, "failed");
        done(new Error(RED._("python-model.errors.not-ready", { error: message })));
      });
      return;
    }

    let scored = 0;
    let restarts = 0;
    const withRestarts = (text: string): string => (restarts > 0 ? `${text} · ${RED._("python-model.status.restarts", { count: restarts })}` : text);
    const showState = (state: RunnerState, error?: Error): void => {
      if (state === "starting") showStatus(this, "busy", RED._("python-model.status.loading"));
      else if (state === "ready") showStatus(this, "ok", withRestarts(RED._("python-model.status.ready")));
      else if (state === "restarting") showStatus(this, "busy", RED._("python-model.status.restarting", { count: restarts }));
      else if (state === "failed") showStatus(this, "error", error?.message ?? RED._("python-model.status.error"));
      else showStatus(this, "off", RED._("python-model.status.stopped"));
    };
    const runner = new ModelRunner(spec, {
      onState: (state, detail) => {
        const { error, info } = detail;
        restarts = detail.restarts;
        showState(state, error);
        if (state === "failed" && error) this.error(RED._("python-model.errors.not-ready", { error: error.message }));
        if (state === "ready" && info) this.log(`model loaded by Python ${info.python} (pid ${info.pid})`);
      },
      onLog: (line) => this.log(`[python] ${line}`),
    });
    const batcher = new MicroBatcher<unknown, RowResult>((rows) => runner.score(rows), {
      maxBatch: numberSetting(config.batchSize, 64, 1, 10_000),
      maxWaitMs: numberSetting(config.maxWaitMs, 5, 0, 10_000),
      maxInFlight: BATCHES_IN_FLIGHT,
      maxQueued: MAX_WAITING,
    });
    showState("starting");
    runner.start();

    const rateTimer = setInterval(() => {
      if (scored === 0 || runner.state !== "ready") return;
      const rate = Math.round((scored * 1000) / RATE_INTERVAL_MS);
      scored = 0;
      showStatus(this, "ok", withRestarts(RED._("python-model.status.scoring", { rate })));
    }, RATE_INTERVAL_MS);

    this.on("input", (msg: NodeMessageInFlow, send, done) => {
      const fail = (error: Error): void => {
        settleMessage(msg, "failed");
        done(error);
      };
      let features: unknown[];
      try {
        features = extractFeatures(msg.payload, runner.info?.input_shape);
      } catch (error) {
        fail(error as Error);
        return;
      }
      batcher.submit(features).then((result) => {
        if (!result.ok) {
          fail(new PythonException(result.error));
          return;
        }
        scored++;
        const out = msg as NodeMessageInFlow & { features?: unknown };
        out.features = features;
        out.payload = result.value;
        send(out);
        done();
      }, fail);
    });

    this.on("close", (_removed: boolean, done: () => void) => {
      clearInterval(rateTimer);
      batcher.rejectWaiting(new Error(RED._("python-model.status.stopped")));
      runner.stop().finally(() => {
        showState("stopped");
        done();
      });
    });
  }
  RED.nodes.registerType("python-model", PythonModel);
};

function modelSpec(config: PythonModelDef, userDir: string | undefined, problem: (key: string) => string): ModelSpec {
  const kind = config.kind === "python" ? "python" : "keras";
  const modelPath = config.modelPath?.trim() ? resolveUserPath(config.modelPath.trim(), userDir) : "";
  const handlerPath = config.handlerPath?.trim() ? resolveUserPath(config.handlerPath.trim(), userDir) : "";
  if (kind === "keras" && !modelPath) throw new Error(problem("no-model"));
  if (kind === "python" && !handlerPath) throw new Error(problem("no-handler"));
  return {
    python: resolveInterpreter(config.python ?? ""),
    kind,
    modelPath,
    handlerPath,
    config: { backend: config.backend || "tensorflow" },
    timeoutMs: numberSetting(config.timeoutMs, 30_000, 100, 600_000),
  };
}
