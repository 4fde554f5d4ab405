/**
 * Sorts what a Python worker prints into log levels: a traceback or a warning is a
 * warning, the lines TensorFlow and absl print on every start are debug, anything else
 * (the model's own prints) is info. A traceback is kept together as one entry.
 */
export type LogLevel = "debug" | "info" | "warn";

/** Receives a worker's output, one entry (a line, or a whole traceback) at a time. */
export type LogSink = (text: string, level: LogLevel) => void;

/** Printed by TensorFlow, XLA and absl at every start; none of it means something is wrong. */
const START_UP_CHATTER = [
  /^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$/,
  /\] oneDNN custom operations are on\./,
  /\] This TensorFlow binary is optimized to use available CPU instructions/,
  /^To enable the following instructions: .*rebuild TensorFlow with the appropriate compiler flags\.$/,
  // a TensorFlow built with CUDA, started where there is no GPU
  /\] Unable to register cu(DNN|FFT|BLAS) factory/,
  /\] Could not find cuda drivers on your machine, GPU will not be used\./,
  /\] failed call to cuInit/,
  /TF-TRT Warning: Could not find TensorRT/,
  /\] computation placer already registered/,
];

/** absl/glog's prefix: severity letter, date, time (0000 and seconds since 1970 before absl::InitializeLog), thread id, file:line]. */
const NATIVE_LINE = /^([IWEF])\d{4} \d\d:\d\d:\d+\.\d+ +\d+ \S+:\d+\] /;
/** warnings.showwarning's first line: `file:line: Category: message`. */
const PYTHON_WARNING = /^\S.*:\d+: [A-Z]\w*Warning: /;
/** The logging module's default format, which absl's Python logging also uses. */
const LOGGING_WARNING = /^(WARNING|ERROR|CRITICAL|FATAL):/;
/** Lines that start a traceback, or join the next one of a chain to it. */
const TRACEBACK_START = /^(Traceback \(most recent call last\):|During handling of the above exception|The above exception was the direct cause)/;
/** A traceback longer than this is passed on in parts, so a runaway one cannot grow without end. */
const MAX_TRACEBACK_LINES = 200;

/** One per output stream: a traceback is gathered across the lines of one stream. */
export class WorkerLogSorter {
  private traceback: string[] | undefined;
  private afterWarning = false;

  constructor(private readonly sink: LogSink) {}

  push(line: string): void {
    const indented = /^\s/.test(line);
    if (this.traceback) {
      this.traceback.push(line);
      // the first line that is neither the stack (indented) nor a chain's link is the exception itself
      if (!indented && !TRACEBACK_START.test(line)) this.flush();
      else if (this.traceback.length >= MAX_TRACEBACK_LINES) this.sink(this.traceback.splice(0).join("\n"), "warn");
      return;
    }
    if (TRACEBACK_START.test(line)) {
      this.traceback = [line];
      return;
    }
    // a warning's second line is the source line it points at
    const continuesWarning = this.afterWarning && indented;
    this.afterWarning = PYTHON_WARNING.test(line);
    this.sink(line, continuesWarning ? "warn" : levelOf(line));
  }

  /** Passes on a traceback still being gathered (the stream has ended). */
  flush(): void {
    if (this.traceback?.length) this.sink(this.traceback.join("\n"), "warn");
    this.traceback = undefined;
  }
}

function levelOf(line: string): LogLevel {
  if (START_UP_CHATTER.some((pattern) => pattern.test(line))) return "debug";
  const native = NATIVE_LINE.exec(line);
  if (native) return native[1] === "I" ? "info" : "warn";
  return PYTHON_WARNING.test(line) || LOGGING_WARNING.test(line) ? "warn" : "info";
}
