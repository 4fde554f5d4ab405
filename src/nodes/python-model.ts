import type { Node, NodeAPI, NodeMessageInFlow } from "node-red";
import { isBatchMessage, withRows } from "../kafka/record-batches";
import { settleMessage } from "../kafka/settlement";
import { PathNotFoundError, resolveUserPath } from "../package-paths";
import { resolveInterpreter } from "../python/interpreter";
import { modelLoads, type LoadLimiter } from "../python/load-limiter";
import { QueueFullError } from "../python/micro-batcher";
import { ModelNotReadyError, StoppingError, type ModelSpec, type RunnerState } from "../python/model-runner";
import { checkModel } from "../python/model-check";
import { FeatureError } from "../python/features";
import { featureReader, handlerConfig, modelKind } from "../python/model-kinds";
import { ModelService } from "../python/model-service";
import { scoreRows, type RowsOutcome } from "../python/row-scoring";
import { UntilLoaded } from "../python/until-loaded";
import type { LogLevel } from "../python/worker-log";
import { PythonException } from "../python/worker-process";
import { PYTHON_MODEL_DEFAULTS, numberSetting, type PythonModelDef } from "./node-config";
import { RateStatus } from "./rate-status";
import { failMessage } from "./report-failure";
import { showStatus } from "./status";

const MAX_WAITING = 10_000;
/** Failed rows of a msg named in its Catch message; the rest are counted. */
const LISTED_ROW_ERRORS = 5;
/** Loading TensorFlow and a model takes seconds; a check that takes this long has failed. */
const CHECK_TIMEOUT_MS = 120_000;

export = function registerPythonModel(RED: NodeAPI): void {
  function PythonModel(this: Node, config: PythonModelDef): void {
    RED.nodes.createNode(this, config);
    const userDir = RED.settings.userDir as string | undefined;

    let spec: ModelSpec;
    let loads: LoadLimiter;
    try {
      spec = modelSpec(config, userDir, (key, values) => RED._(`python-model.errors.${key}`, values));
      loads = modelLoads();
    } catch (error) {
      const message = (error as Error).message;
      showStatus(this, "error", message);
      this.error(message);
      this.on("input", (msg: NodeMessageInFlow, _send, done) => {
        const error = new Error(RED._("python-model.errors.not-ready", { error: message }));
        settleMessage(msg, "failed", { error: error.message, node: this.id });
        failMessage(this, msg, error, done);
      });
      return;
    }

    const readModelInput = featureReader(modelKind(config.kind));
    const featuresProperty = config.featuresProperty?.trim() || "payload";
    const outputProperty = config.outputProperty?.trim() || "payload";
    const { read: readFeatures } = messageProperty(RED, featuresProperty);
    const { write: writePrediction } = messageProperty(RED, outputProperty);
    const configuredNames = (config.featureNames ?? "")
      .split(",")
      .map((name) => name.trim())
      .filter(Boolean);
    const workers = numberSetting(config.workers, PYTHON_MODEL_DEFAULTS.workers, 1, 16);
    const maxBatch = numberSetting(config.batchSize, PYTHON_MODEL_DEFAULTS.batchSize, 1, 10_000);

    let state: RunnerState = "starting";
    let restarts = 0;
    let ahead = 0;
    let readyWorkers = workers;
    let poolSize = workers;
    let stateError: Error | undefined;
    const withRestarts = (text: string): string => (restarts > 0 ? `${text} · ${RED._("python-model.status.restarts", { count: restarts })}` : text);
    /** The state, and once ready, what became of the records of the last second (RateStatus). */
    const showState = (): void => {
      const workersText = poolSize > 1 && readyWorkers < poolSize ? ` (${readyWorkers}/${poolSize})` : "";
      const view = state === "ready" ? rates.view() : undefined;
      if (view) showStatus(this, view.look, withRestarts(view.text));
      else if (state === "queued") showStatus(this, "busy", RED._("python-model.status.queued", { ahead }));
      else if (state === "starting") showStatus(this, "busy", RED._("python-model.status.loading"));
      else if (state === "ready") showStatus(this, "ok", withRestarts(RED._("python-model.status.ready") + workersText + (service.info?.note ? ` (${service.info.note})` : "")));
      else if (state === "restarting") showStatus(this, "busy", RED._("python-model.status.restarting", { count: restarts }));
      else if (state === "failed") showStatus(this, "error", stateError?.message ?? RED._("python-model.status.error"));
      else showStatus(this, "off", RED._("python-model.status.stopped"));
    };

    type Input = { msg: NodeMessageInFlow; send: (msg: NodeMessageInFlow) => void; done: (error?: Error) => void };
    const arrivals = new UntilLoaded<Input>(MAX_WAITING);
    // the mean batch size of the last interval: the rows of a batch may end in the next one (ordering), so the last mean stays until another batch ends
    let seen = { rows: 0, batches: 0 };
    let meanBatch = 0;
    const batchSize = (): { batch: string } => {
      const batches = service.batchesScored - seen.batches;
      if (batches > 0) meanBatch = (service.rowsSent - seen.rows) / batches;
      seen = { rows: service.rowsSent, batches: service.batchesScored };
      return { batch: meanBatch.toFixed(1) };
    };
    const rates = new RateStatus(RED, "python-model", showState, batchSize);
    const logAt: Record<LogLevel, (text: string) => void> = {
      debug: (text) => this.debug(text),
      info: (text) => this.log(text),
      warn: (text) => this.warn(text),
    };

    const service = new ModelService(
      {
        spec,
        workers,
        maxBatch,
        maxWaitMs: numberSetting(config.maxWaitMs, PYTHON_MODEL_DEFAULTS.maxWaitMs, 0, 10_000),
        maxQueued: MAX_WAITING,
        ordered: config.ordered !== false,
        reloadOnChange: config.reload !== false,
        loads,
      },
      {
        onState: (next, detail) => {
          state = next;
          // a worker's death is worth a line in the log: the status only counts restarts
          if (detail.restarts > restarts && detail.error) this.warn(RED._("python-model.errors.worker-exited", { error: detail.error.message }));
          restarts = detail.restarts;
          ahead = detail.ahead ?? 0;
          readyWorkers = detail.ready;
          poolSize = detail.size;
          stateError = detail.error;
          showState();
          if (next === "failed" && detail.error) this.error(RED._("python-model.errors.not-ready", { error: detail.error.message }));
          if (next === "ready" && detail.info) this.log(`model loaded by Python ${detail.info.python} (pid ${detail.info.pid})${detail.info.note ? `: ${detail.info.note}` : ""}`);
          // the records that waited for the model are checked against it, or fail as later ones will
          if (next === "ready" && !arrivals.decided) arrivals.release((input) => score(input.msg, input.send, input.done));
          if (next === "failed") arrivals.release((input) => fail(input.msg, input.done, new ModelNotReadyError(detail.error)));
        },
        onReload: ({ info, error }) => {
          if (error) {
            this.warn(RED._("python-model.errors.reload", { error: error.message }));
            return;
          }
          this.log(`model reloaded by Python ${info?.python} (pid ${info?.pid})`);
          showStatus(this, "ok", withRestarts(RED._("python-model.status.reloaded")));
        },
        onLog: (text, level) => logAt[level](`[python] ${text}`),
      },
    );
    service.start();
    if (state === "starting") showState(); // else the service has said where it stands (waiting for a place to load)

    const fail = (msg: NodeMessageInFlow, done: (error?: Error) => void, error: Error): void => {
      // a record the node did not get to score before it closed is read again, not settled
      if (!(error instanceof StoppingError)) {
        rates.failed(String(error)); // with the error's type, as Python names it
        settleMessage(msg, "failed", { error: String(error), node: this.id });
      }
      failMessage(this, msg, error, done);
    };

    const score = (msg: NodeMessageInFlow, send: (msg: NodeMessageInFlow) => void, done: (error?: Error) => void): void => {
      if (config.rowsPerMessage || isBatchMessage(msg)) return scoreMessageRows(msg, send, done);
      let features: unknown;
      try {
        const info = service.info;
        const names = configuredNames.length ? configuredNames : info?.feature_names;
        features = readModelInput(readFeatures(msg), info?.input_shape, names);
      } catch (error) {
        fail(msg, done, error as Error);
        return;
      }
      service.submit(features, (error, scored) => {
        if (error || !scored) return fail(msg, done, error ?? new Error("no result"));
        if (!scored.result.ok) return fail(msg, done, new PythonException(scored.result.error));
        const out = msg as NodeMessageInFlow & { features?: unknown; timing?: object };
        if (featuresProperty === "payload" && outputProperty === "payload") out.features = features;
        writePrediction(out, scored.result.value);
        if (config.timing) out.timing = { queuedMs: scored.queuedMs, scoringMs: scored.scoringMs, batchSize: scored.batchSize };
        rates.succeeded();
        send(out);
        done();
      });
    };

    /** A msg of rows (a batch from kafka-in): each row scored as a record; rows that fail leave the msg, and the others go on. */
    const scoreMessageRows = (msg: NodeMessageInFlow, send: (msg: NodeMessageInFlow) => void, done: (error?: Error) => void): void => {
      const rows = readFeatures(msg);
      if (!Array.isArray(rows) || rows.length === 0) {
        fail(msg, done, new FeatureError(RED._("python-model.errors.not-rows", { property: featuresProperty })));
        return;
      }
      const info = service.info;
      const names = configuredNames.length ? configuredNames : info?.feature_names;
      scoreRows(
        rows,
        (row) => readModelInput(row, info?.input_shape, names),
        (features, scored) => service.submit(features, scored),
        (outcome) => finishRows(msg, rows, outcome, send, done),
      );
    };

    const finishRows = (msg: NodeMessageInFlow, rows: unknown[], { results, errors, last }: RowsOutcome, send: (msg: NodeMessageInFlow) => void, done: (error?: Error) => void): void => {
      const stopping = [...errors.values()].find((error) => error instanceof StoppingError);
      // closing: the records are read again, not settled
      if (stopping) return failMessage(this, msg, stopping, done);
      const kept = rows.flatMap((_row, index) => (errors.has(index) ? [] : [index]));
      let out = msg as NodeMessageInFlow & { features?: unknown; timing?: object };
      if (errors.size > 0) {
        const rowErrors = failedRows(msg, errors);
        const listed = rowErrors.slice(0, LISTED_ROW_ERRORS).map((row) => RED._(row.offset ? "python-model.errors.row-at" : "python-model.errors.row", { ...row }));
        const more = rowErrors.length > LISTED_ROW_ERRORS ? RED._("python-model.errors.more-rows", { count: rowErrors.length - LISTED_ROW_ERRORS }) : "";
        const text = RED._("python-model.errors.rows-failed", { count: rowErrors.length, total: rows.length, rows: listed.join("; ") + more });
        const batch = isBatchMessage(msg);
        // each failed record of a batch is settled on its own: dead-lettered with its own error
        if (batch) for (const row of rowErrors) settleMessage(withRows(msg, [row.index]), "failed", { error: row.error, node: this.id });
        const failed = rowErrors.map((row) => row.index);
        const report = Object.assign(withRows(msg, failed), { payload: failed.map((index) => rows[index]), errors: rowErrors });
        rates.failed(rowErrors[0].error, failed.length);
        // Catch gets the failed rows (done(error) would hand it the msg as it came)
        this.error(text, report);
        if (kept.length === 0) {
          if (!batch) settleMessage(msg, "failed", { error: text, node: this.id });
          return done();
        }
        // the msg goes on with the rows that scored: a batch's msg.kafka narrowed to them, msg.errors naming the others
        out = Object.assign(withRows(msg, kept), { errors: rowErrors });
      }
      if (featuresProperty === "payload" && outputProperty === "payload") out.features = kept.length === rows.length ? rows : kept.map((index) => rows[index]);
      writePrediction(out, kept.map((index) => results[index]));
      if (config.timing && last) out.timing = { queuedMs: last.queuedMs, scoringMs: last.scoringMs, batchSize: last.batchSize };
      rates.succeeded(kept.length);
      send(out);
      done();
    };

    this.on("input", (msg: NodeMessageInFlow, send, done) => {
      if (arrivals.decided) score(msg, send, done);
      else if (!arrivals.hold({ msg, send, done })) fail(msg, done, new QueueFullError(MAX_WAITING));
    });

    this.on("close", (_removed: boolean, done: () => void) => {
      rates.stop();
      arrivals.release((input) => fail(input.msg, input.done, new StoppingError()));
      service.stop().finally(() => {
        state = "stopped";
        showState();
        done();
      });
    });
  }
  RED.nodes.registerType("python-model", PythonModel);

  // the dialog's "check model": loads the model as the settings in the dialog say, before
  // deploy; behind the admin auth, with the permission to edit python-model nodes
  RED.httpAdmin.post("/python-model/check", RED.auth.needsPermission("python-model.write"), (req, res) => {
    const userDir = RED.settings.userDir as string | undefined;
    let spec: ModelSpec;
    let loads: LoadLimiter;
    try {
      spec = modelSpec((req.body ?? {}) as PythonModelDef, userDir, (key, values) => RED._(`python-model.errors.${key}`, values));
      loads = modelLoads();
    } catch (error) {
      res.json({ ok: false, error: (error as Error).message });
      return;
    }
    checkModel(spec, CHECK_TIMEOUT_MS, loads).then(
      (info) => res.json({ ok: true, info }),
      (error: Error) => res.json({ ok: false, error: `${error.name}: ${error.message}` }),
    );
  });
};

/** The failed rows of a msg in index order: each one's index, its record's offset (a batch's), and its error. */
function failedRows(msg: NodeMessageInFlow, errors: Map<number, Error>): { index: number; offset?: string; error: string }[] {
  const offsets = isBatchMessage(msg) ? msg.kafka.offsets : undefined;
  return [...errors.keys()]
    .sort((a, b) => a - b)
    .map((index) => ({ index, ...(offsets ? { offset: offsets[index] } : {}), error: String(errors.get(index)) }));
}

/**
 * Reads and writes a msg property. A plain top-level name (payload, the default) is used
 * as it is: parsing the property expression for every msg cost about 6% of the node's time.
 */
function messageProperty(RED: NodeAPI, property: string): { read: (msg: NodeMessageInFlow) => unknown; write: (msg: NodeMessageInFlow, value: unknown) => void } {
  if (/^[A-Za-z_$][\w$]*$/.test(property)) {
    const record = (msg: NodeMessageInFlow): Record<string, unknown> => msg as unknown as Record<string, unknown>;
    return { read: (msg) => record(msg)[property], write: (msg, value) => (record(msg)[property] = value) };
  }
  return {
    read: (msg) => RED.util.getMessageProperty(msg, property),
    write: (msg, value) => RED.util.setMessageProperty(msg, property, value, true),
  };
}

function modelSpec(config: PythonModelDef, userDir: string | undefined, problem: (key: string, values?: Record<string, string>) => string): ModelSpec {
  const kind = modelKind(config.kind);
  const resolve = (configured: string | undefined, notFound: string): string => {
    if (!configured?.trim()) return "";
    try {
      return resolveUserPath(configured.trim(), userDir);
    } catch (error) {
      if (!(error instanceof PathNotFoundError)) throw error;
      throw new Error(problem(notFound, { path: error.configured, places: error.lookedIn.join(", ") }));
    }
  };
  const modelPath = resolve(config.modelPath, "model-not-found");
  const handlerPath = kind === "python" ? resolve(config.handlerPath, "handler-not-found") : "";
  if (kind !== "python" && !modelPath) throw new Error(problem("no-model"));
  if (kind === "python" && !handlerPath) throw new Error(problem("no-handler"));
  return {
    python: resolveInterpreter(config.python ?? ""),
    kind,
    modelPath,
    handlerPath,
    config: handlerConfig(kind, { ...config, maxBatch: numberSetting(config.batchSize, PYTHON_MODEL_DEFAULTS.batchSize, 1, 10_000) }),
    timeoutMs: numberSetting(config.timeoutMs, PYTHON_MODEL_DEFAULTS.timeoutMs, 100, 600_000),
  };
}
