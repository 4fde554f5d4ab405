"""Persistent model worker: loads one model once, then scores batches on request.

Protocol (see protocol.ts): frames of a 4-byte big-endian length and a body: a 4-byte
big-endian header length, a UTF-8 JSON header, then, when the header says so, a block
of little-endian float64 numbers (numeric rows in, numeric outputs out). Requests come
on stdin, replies go to the original stdout. Every reply names the request it answers
and says ok or error. Everything else the process prints (user
code, Keras progress bars, TensorFlow logs) goes to the log channel, so it cannot
corrupt the protocol.
"""

import importlib.util
import json
import os
import struct
import sys
import threading
import time
import traceback

HEADER = struct.Struct(">I")

try:
    # several times faster than json on the replies of large batches; optional so that
    # any environment with a Python 3 can run the worker
    import orjson
except ImportError:
    orjson = None


def take_protocol_streams():
    """Keep private handles on the protocol pipes and send fds 1 and 2 to the log channel."""
    protocol_in = os.fdopen(os.dup(0), "rb", buffering=0)
    protocol_out = os.fdopen(os.dup(1), "wb", buffering=0)
    log_fd = int(os.environ.get("PYTHON_MODEL_LOG_FD", "2"))
    if log_fd != 2:
        os.dup2(log_fd, 2)
    os.dup2(2, 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # user code that reads stdin must not eat protocol bytes
    sys.stdout = sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)
    return protocol_in, protocol_out


def run_as_batch_job():
    """On Linux, SCHED_BATCH: the same share of CPU, but a worker woken by a new batch
    waits for the running thread's time slice instead of preempting it. The thread it
    would preempt is usually Node-RED's, the one that just sent the batch: on two busy
    cores each such write cost Node about 100 microseconds. Threads started later
    (TensorFlow's among them) inherit the policy."""
    if not hasattr(os, "sched_setscheduler"):
        return
    try:
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    except OSError:
        pass  # a sandbox may refuse it; the worker runs as before


def exit_when_parent_dies(parent_pid):
    def watch():
        while True:
            if os.getppid() != parent_pid:
                os._exit(0)
            time.sleep(1.0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def read_exact(stream, size):
    data = bytearray()
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def read_frame(stream):
    """The next request and its numbers block (empty when it has none), or None at the end of input."""
    length = read_exact(stream, HEADER.size)
    if length is None:
        return None
    body = read_exact(stream, HEADER.unpack(length)[0])
    if body is None:
        return None
    header_end = HEADER.size + HEADER.unpack_from(body)[0]
    header = bytes(body[HEADER.size : header_end])
    return (orjson.loads(header) if orjson else json.loads(header)), body[header_end:]


def frame(header, numbers=b""):
    return HEADER.pack(HEADER.size + len(header) + len(numbers)) + HEADER.pack(len(header)) + header + numbers


def rows_from_block(block, shape):
    """Numeric rows sent as numbers (only to the built-in handlers, which take one array)."""
    import numpy as np

    return np.frombuffer(block, dtype="<f8").reshape(shape)


def to_jsonable(value):
    """numpy scalars and arrays returned by handlers become plain JSON values."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"result of type {type(value).__name__} is not JSON serialisable")


def describe(error):
    return {
        "type": type(error).__name__,
        "message": str(error),
        "traceback": "".join(traceback.format_exception(error)),
    }


def import_file(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HANDLERS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "handlers")
sys.path.insert(0, HANDLERS_DIR)  # the built-in handlers share helpers

from shaping import Outputs  # noqa: E402 (found on the path set just above)


def load_handler(request):
    kind = request["kind"]
    if kind == "python":
        path = request.get("handler_path") or ""
        if not os.path.isfile(path):
            raise FileNotFoundError(f"handler file not found: {path}")
        handler = import_file(path, "user_handler")
    else:
        handler = import_file(os.path.join(HANDLERS_DIR, f"{kind}_handler.py"), f"{kind}_handler")
    for needed in ("load", "predict"):
        if not callable(getattr(handler, needed, None)):
            raise AttributeError(f"handler {getattr(handler, '__file__', kind)} does not define {needed}()")
    return handler


class Worker:
    def __init__(self):
        self.handler = None
        self.model = None

    def load(self, request):
        config = request.get("config") or {}
        try:
            self.handler = load_handler(request)
            self.model = self.handler.load(request.get("model_path") or "", config)
        except ModuleNotFoundError as error:
            raise ModuleNotFoundError(f"{error.name} is not installed in {sys.prefix} ({sys.executable})") from error
        describe_model = getattr(self.handler, "describe", None)
        info = describe_model(self.model) if callable(describe_model) else {}
        return {"python": sys.version.split()[0], "executable": sys.executable, "pid": os.getpid(), **info}

    def predict(self, rows):
        """
        Score the batch in one call; if it fails, score row by row so only bad rows fail.
        Returns the built-in handlers' Outputs as they are (sent as numbers), else one
        result per row.
        """
        try:
            results = self.handler.predict(self.model, rows)
            if not isinstance(results, Outputs):
                results = list(results)
            if len(results) != len(rows):
                raise ValueError(f"predict() returned {len(results)} results for {len(rows)} rows")
            return results if isinstance(results, Outputs) else [{"ok": True, "value": value} for value in results]
        except Exception:
            if len(rows) == 1:
                raise
        return [self.predict_one(row) for row in rows]

    def predict_one(self, row):
        try:
            results = self.handler.predict(self.model, [row])
            (value,) = results.rows() if isinstance(results, Outputs) else results
            return {"ok": True, "value": value}
        except Exception as error:
            return {"ok": False, "error": describe(error)}


def handle(worker, request, block):
    """The reply to a request, and the numbers block that goes with it."""
    op = request.get("op")
    if op == "load":
        return {"info": worker.load(request)}, b""
    if op == "predict":
        if worker.handler is None:
            raise RuntimeError("no model loaded")
        shape = request.get("shape")
        rows = rows_from_block(block, shape) if shape else request["rows"]
        results = worker.predict(rows)
        if isinstance(results, Outputs):
            return {"outputs": results.table()}, results.numbers()
        return {"results": results}, b""
    raise ValueError(f"unknown op {op!r}")


def encode(reply):
    if orjson:
        return orjson.dumps(reply, default=to_jsonable, option=orjson.OPT_SERIALIZE_NUMPY)
    return json.dumps(reply, separators=(",", ":"), allow_nan=False, default=to_jsonable).encode()


def encode_reply(reply):
    try:
        return encode(reply)
    except (TypeError, ValueError):
        if "results" not in reply:
            raise
        # one row's result cannot be encoded (an object JSON cannot hold): fail only that row
        reply["results"] = [encodable_or_error(result) for result in reply["results"]]
        return encode(reply)


def encodable_or_error(result):
    try:
        encode(result)
        return result
    except (TypeError, ValueError) as error:
        return {"ok": False, "error": describe(TypeError(f"the result is not JSON serialisable: {error}"))}


def serve(protocol_in, protocol_out):
    worker = Worker()
    while True:
        received = read_frame(protocol_in)
        if received is None:
            return  # the parent closed the pipe: it is gone or wants us gone
        request, block = received
        request_id = request.get("id")
        try:
            reply, numbers = handle(worker, request, block)
            body = frame(encode_reply({"id": request_id, "ok": True, **reply}), numbers)
        except Exception as error:
            body = frame(encode({"id": request_id, "ok": False, "error": describe(error)}))
        protocol_out.write(body)


def main():
    run_as_batch_job()
    protocol_in, protocol_out = take_protocol_streams()
    exit_when_parent_dies(os.getppid())
    profile_to = os.environ.get("PYTHON_MODEL_PROFILE")
    if not profile_to:
        serve(protocol_in, protocol_out)
        return
    # for benchmarks: where the worker's time goes, written when it leaves
    import cProfile

    profiler = cProfile.Profile()
    profiler.runcall(serve, protocol_in, protocol_out)
    profiler.dump_stats(f"{profile_to}.{os.getpid()}")


if __name__ == "__main__":
    main()
