import type { ModelSpec } from "./model-runner";
import type { ModelInfo } from "./protocol";
import { WorkerProcess } from "./worker-process";

/**
 * Loads a model once in a throwaway worker, as a deployed node would, and says what it
 * is (input and output shapes, labels, the Python that loaded it) or why it failed.
 * For the edit dialog's "check model": the user learns before deploying.
 */
export async function checkModel(spec: ModelSpec, timeoutMs: number): Promise<ModelInfo> {
  const worker = new WorkerProcess({ python: spec.python });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`the model did not load within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
  });
  try {
    return await Promise.race([worker.load({ kind: spec.kind, model_path: spec.modelPath, handler_path: spec.handlerPath, config: spec.config }), timeout]);
  } finally {
    clearTimeout(timer);
    await worker.stop();
  }
}
