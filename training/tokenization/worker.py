"""A worker process of ``processes.WorkerPool``: import the modules named on the command line, then read a task
(function path and argument), run it, send the result or the exception; exit when the parent closes stdin."""

import importlib
import os
import pickle
import sys
import traceback

from training.tokenization.processes import read_frame, write_frame


def _resolve(target: str):
    module, _, name = target.partition(":")
    obj = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def main(preload: list[str]) -> None:
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # whatever else writes to stdout (print, Rust) lands on stderr, not in the message stream
    sys.stdout = sys.stderr
    stdin = sys.stdin.buffer.fileno()
    for module in preload:  # imported while the parent still prepares the first task
        importlib.import_module(module)
    while (message := read_frame(stdin)) is not None:
        task_id, target, arg = message
        try:
            reply = (task_id, "ok", _resolve(target)(arg))
        except Exception as exc:
            try:
                pickle.loads(pickle.dumps(exc))  # both ways: the parent must be able to rebuild it
                payload = exc
            except Exception:
                payload = None
            reply = (task_id, "error", (payload, type(exc).__name__, str(exc), traceback.format_exc()))
        write_frame(replies, reply)
    replies.close()
    # Every task's files were renamed into place before its reply, so nothing is left to flush: skipping the
    # interpreter's teardown (numpy, pyarrow, Rayon) makes closing the pool immediate.
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
