import * as fs from "node:fs";
import type { Readable } from "node:stream";

/** A log past this size moves to `<file>.1` (replacing the one there) and starts again: at most twice this on disk. */
export const LOG_ROTATE_BYTES = 5 * 1024 * 1024;

/**
 * A child process's output, appended to a file that outlives the run: after a restart
 * the log of the run before (the crash one wants to read) is still there. Each run
 * begins with a line giving the time and this process's pid.
 */
export interface ProcessLog {
  file: string;
  /** What this run wrote (since the rotation, when the file rotated during the run). */
  text(): string;
  /** Appends what these streams carry until they end; resolves then. `echo` gets a copy. */
  follow(streams: (Readable | null | undefined)[], echo?: NodeJS.WritableStream): Promise<void>;
}

function sizeOf(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/** Opens `file` for appending; `what` names the process in the line that marks this run's start. */
export function openProcessLog(file: string, what: string, rotateBytes = LOG_ROTATE_BYTES): ProcessLog {
  let size = sizeOf(file);
  let runStart = 0;
  // written as it comes, synchronously: a crash loses nothing that reached this process
  const append = (chunk: Buffer | string): void => {
    const bytes = Buffer.byteLength(chunk);
    if (size > 0 && size + bytes > rotateBytes) {
      fs.renameSync(file, `${file}.1`);
      size = 0;
      runStart = 0;
    }
    fs.appendFileSync(file, chunk);
    size += bytes;
  };
  const marker = `----- ${new Date().toISOString()} ${what} started by pid ${process.pid} -----\n`;
  append(marker);
  runStart = size - Buffer.byteLength(marker);

  const text = (): string => {
    const fd = fs.openSync(file, "r");
    try {
      const length = Math.max(0, fs.fstatSync(fd).size - runStart);
      const buffer = Buffer.alloc(length);
      fs.readSync(fd, buffer, 0, length, runStart);
      return buffer.toString("utf8");
    } finally {
      fs.closeSync(fd);
    }
  };
  const follow = (streams: (Readable | null | undefined)[], echo?: NodeJS.WritableStream): Promise<void> =>
    Promise.all(
      streams.map(
        (stream) =>
          new Promise<void>((resolve) => {
            if (!stream) return resolve();
            stream.on("data", (chunk: Buffer) => {
              append(chunk);
              echo?.write(chunk);
            });
            stream.once("close", () => resolve());
          }),
      ),
    ).then(() => undefined);
  return { file, text, follow };
}

/** The last `count` lines of a text, without the empty line after its final newline. */
export function lastLines(text: string, count: number): string[] {
  return text.replace(/\n$/, "").split("\n").slice(-count);
}
