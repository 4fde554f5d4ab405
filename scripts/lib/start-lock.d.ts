/** What a lock file says about the npm start that holds it. */
export interface StartHolder {
  pid: number;
  /** Its command line when it took the lock: a pid running anything else is not it. */
  command: string;
  startedAt: string;
  url?: string;
  brokers?: string;
  nodeRedPort?: number;
  /** The embedded broker's port; absent when the start uses KAFKA_BROKERS. */
  kafkaPort?: number;
}

export type ServedDetails = Pick<StartHolder, "url" | "brokers" | "nodeRedPort" | "kafkaPort">;

/** The lock this process holds until it ends. */
export interface StartLock {
  file: string;
  /** The folder it guards, where npm start keeps its broker data, Node-RED user directory and logs. */
  folder: string;
  /** Adds what this start serves, for a second start's refusal to name. */
  record(details: ServedDetails): void;
}

export type LockOutcome = { lock: StartLock; replaced?: StartHolder | null } | { holder: StartHolder };

export function startFolder(root: string, env?: NodeJS.ProcessEnv): string;
export function lockStart(folder: string): LockOutcome;
export function alreadyRunning(holder: StartHolder, folder: string): string;
