import type { Logger } from "../../engine";
import type { NativeError, NativeLogEntry } from "./native";

/** syslog's levels, as librdkafka's log uses them. */
const ERROR_SEVERITY = 3;
const WARNING_SEVERITY = 4;
/** An error event this soon after a failure was logged is taken as the same failure. */
const SAME_FAILURE_MS = 2000;

/**
 * "[thrd:ssl://host:9093/bootstrap]: ssl://host:9093/bootstrap: SSL handshake failed: ...
 * (after 5ms in state SSL_HANDSHAKE)" → "SSL handshake failed: ...": the reason alone, without
 * OpenSSL's error code.
 */
function reasonIn(message: string): string {
  return message
    .replace(/^\[thrd:[^\]]*\]: /, "")
    .replace(/^\S+\/(bootstrap|\d+): /, "")
    .replace(/ \(after \d+ms in state \w+(, \d+ identical error\(s\) suppressed)?\)$/, "")
    .replace(/error:[0-9A-F]{8}:SSL routines::/g, "");
}

/** A reason logged for a login the broker refused: librdkafka tries again, but a wrong password stays wrong. */
export function isRefusedLogin(reason: string): boolean {
  return /SASL authentication (error|failed)|Authentication failed/i.test(reason);
}

/**
 * librdkafka says why something failed in its log (the FAIL lines) and gives its error
 * events only a generic name ("ssl error", "authentication failure"): the log's reason
 * is what the nodes show, and what an error event is reported with.
 */
export class NativeProblems {
  private last: { reason: string; at: number } | undefined;

  constructor(
    private readonly log: Logger,
    private readonly report: (reason: string) => void,
  ) {}

  /** For the client's 'event.log' events; gives the reason of a failure (an error line). */
  readonly logged = (entry: NativeLogEntry): string | undefined => {
    if (entry.severity > WARNING_SEVERITY) return undefined;
    const reason = reasonIn(entry.message);
    if (entry.severity > ERROR_SEVERITY) {
      this.log("debug", reason);
      return undefined;
    }
    this.last = { reason, at: Date.now() };
    this.log("warn", reason);
    this.report(reason);
    return reason;
  };

  /** For 'event.error' events no one else handles: reported, unless they follow a failure logged (and reported) just before. */
  readonly errored = (error: NativeError): void => {
    if (this.last && Date.now() - this.last.at <= SAME_FAILURE_MS) return;
    this.log("warn", error.message);
    this.report(error.message);
  };

  /** For the client's plain 'error' events: a token refresh that failed (librdkafka asks again in 10 s). */
  readonly tokenFailed = (error: Error): string => {
    const reason = error.message.replace(/^oauthbearer_token_refresh_cb: /, "");
    this.last = { reason, at: Date.now() };
    this.log("warn", reason);
    this.report(reason);
    return reason;
  };

  /** An error, with the reason logged for it (within `withinMs`) when there is one. */
  explained(error: NativeError, withinMs = SAME_FAILURE_MS): NativeError {
    if (!this.last || Date.now() - this.last.at > withinMs) return error;
    return Object.assign(new Error(this.last.reason), { code: error.code, isFatal: error.isFatal, isRetriable: error.isRetriable });
  }
}
