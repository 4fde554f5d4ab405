import * as os from "node:os";
import { lastLines } from "./process-log";

/** A process that is watched while it runs: it should end only when asked to. */
export interface WatchedProcess {
  exited: Promise<number | null>;
  logFile: string;
  /** What it logged in this run. */
  log(): string;
  stop(): Promise<void>;
}

/** A watched process that ended without being asked. */
export interface Death {
  name: string;
  code: number | null;
  process: WatchedProcess;
}

/**
 * Everything a command runs (processes and clients), stopped together in the reverse
 * order of starting. The processes are watched: the first one to end before stopping
 * began is reported through `died`, so that the command stops too instead of carrying
 * on without it.
 */
export class ServiceGroup {
  private readonly stops: (() => Promise<void>)[] = [];
  private stopped?: Promise<void>;
  private first?: Death;
  private announce: (death: Death) => void = () => undefined;
  readonly died = new Promise<Death>((resolve) => (this.announce = resolve));

  get stopping(): boolean {
    return this.stopped !== undefined;
  }

  /** The process that ended by itself, if one did. */
  get death(): Death | undefined {
    return this.first;
  }

  /** Adds something to stop; what comes after stopping began is stopped at once. */
  add(stop: () => Promise<void>): void {
    if (this.stopped) void stop().catch(reportStopError);
    else this.stops.push(stop);
  }

  /** Adds a process to stop and to watch. */
  watch(name: string, process: WatchedProcess): void {
    this.add(() => process.stop());
    void process.exited.then((code) => {
      if (this.stopped || this.first) return;
      this.first = { name, code, process };
      this.announce(this.first);
    });
  }

  stopAll(): Promise<void> {
    this.stopped ??= (async () => {
      for (const stop of [...this.stops].reverse()) await stop().catch(reportStopError);
    })();
    return this.stopped;
  }
}

function reportStopError(error: Error): void {
  console.error(`[demo] ${error.message}`);
}

/** How a process ended, from the code its watchdog shell reports (a signal as 128 + its number). */
export function describeExit(code: number | null): string {
  if (code === null) return "killed by a signal";
  const signal = code > 128 ? Object.entries(os.constants.signals).find(([, number]) => number === code - 128)?.[0] : undefined;
  return signal ? `killed by ${signal}` : `exit code ${code}`;
}

/** The last lines a dead process logged, indented under a line that says where they come from. */
export function lastWords(death: Death, count = 20): string {
  const lines = lastLines(death.process.log(), count).map((line) => `    ${line}`);
  return [`the last lines of ${death.process.logFile}:`, ...lines].join("\n");
}
