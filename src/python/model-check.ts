import type { LoadLimiter } from "./load-limiter";
import type { ModelSpec } from "./model-runner";
import type { ModelInfo } from "./protocol";
import { WorkerProcess } from "./worker-process";

/**
 * Loads a model once in a throwaway worker, as a deployed node would, and says what it
 * is (input and output shapes, labels, the Python that loaded it) or why it failed.
 * For the edit dialog's "check model": the user learns before deploying.
 *
 * A check takes a place among the loads like any worker, so that it never adds to a
 * machine already loading as many models as allowed; but it goes before every node
 * waiting to load, because someone is waiting for the answer at the dialog: it waits
 * for a load under way to finish, never for a whole redeploy.
 */
export async function checkModel(spec: ModelSpec, timeoutMs: number, loads: LoadLimiter): Promise<ModelInfo> {
  const gaveUp = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      gaveUp.abort();
      reject(new Error(`the model did not load within ${Math.round(timeoutMs / 1000)} s`));
    }, timeoutMs);
  });
  // the time allowed counts from the request: waiting for a place is part of it
  const release = await Promise.race([loads.acquire({ first: true, signal: gaveUp.signal }), timeout]);
  const worker = new WorkerProcess({ python: spec.python });
  try {
    return await Promise.race([worker.load({ kind: spec.kind, model_path: spec.modelPath, handler_path: spec.handlerPath, config: spec.config }), timeout]);
  } finally {
    clearTimeout(timer);
    await worker.stop();
    release();
  }
}
