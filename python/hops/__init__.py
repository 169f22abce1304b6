"""hops: the trial side of the hops pipeline, in pure Python (stdlib + ctypes).

Inside a program started by ``hops run -- python3 train.py``::

    import hops
    lr = hops.params().get("lr", 0.1)
    for step in range(10):
        hops.report(step, loss=0.5 / (step + 1))
    hops.report_final(accuracy=0.93)

Reports are the JSON lines of the trial protocol (docs: DESIGN.md, "The
trial protocol"), appended to the file named by $HOPS_REPORT. Inside a
training function run by :func:`hops.experiment.launch` they go straight to
that launch's run through libhops instead, with no file or pipe.
"""

import contextlib
import json
import math
import os
import threading

from ._lib import HopsError

__all__ = ["HopsError", "report", "report_final", "params", "experiment", "serving"]

_active_run = None  # the hops._lib.Run of the experiment.launch now running
_write_lock = threading.Lock()


def _metric(key, value):
    """VALUE as a float, or TypeError: numbers (not bool) and things with __float__."""
    if isinstance(value, (bool, str, bytes)) or not hasattr(value, "__float__"):
        raise TypeError("metric %r must be a number, not %s" % (key, type(value).__name__))
    return float(value)


def _metrics(metrics):
    if not metrics:
        raise ValueError("nothing to report: pass metrics as keywords, e.g. report(3, loss=0.2)")
    return {k: _metric(k, v) for k, v in metrics.items()}


def _json_number(x):
    """Non-finite floats as the protocol's strings; strict JSON has no NaN."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def _write_line(obj):
    path = os.environ.get("HOPS_REPORT")
    if not path:
        raise RuntimeError(
            "hops.report(): not running under hops (HOPS_REPORT is not set). Start the "
            "program with `hops run -- python3 script.py`, or run the training function "
            "with hops.experiment.launch(train_fn).")
    data = (json.dumps(obj, allow_nan=False, separators=(",", ":")) + "\n").encode()
    # Unbuffered append: the whole line goes out in one write() (a pipe keeps
    # writes up to PIPE_BUF whole), nothing is left in a buffer to flush.
    with _write_lock, open(path, "ab", buffering=0) as f:
        while data:
            data = data[f.write(data):]


def report(step=None, **metrics):
    """Report metric values at a training step: ``report(3, loss=0.2, acc=0.9)``.

    STEP is an int; None means one past the last step reported. At least one
    metric; values are numbers (ValueError / TypeError otherwise); NaN and +-inf are kept (written as "NaN", "Infinity",
    "-Infinity"). Raises RuntimeError when the program runs neither under
    ``hops run`` nor inside :func:`hops.experiment.launch`.
    """
    if step is not None and (isinstance(step, bool) or not hasattr(step, "__index__")):
        raise TypeError("step must be an int, not %s" % type(step).__name__)
    step = None if step is None else step.__index__()
    values = _metrics(metrics)
    run = _active_run
    if run is not None:
        run.log_metrics(step, values)
        return
    line = {"metrics": {k: _json_number(v) for k, v in values.items()}}
    if step is not None:
        line = {"step": step, **line}
    _write_line(line)


def report_final(**metrics):
    """Report the final metrics the run is judged by: ``report_final(accuracy=0.93)``."""
    values = _metrics(metrics)
    run = _active_run
    if run is not None:
        run.log_finals(values)
        return
    _write_line({"final": {k: _json_number(v) for k, v in values.items()}})


def params():
    """The run's parameters: json.loads($HOPS_PARAMS), or {} when it is not set."""
    text = os.environ.get("HOPS_PARAMS")
    return json.loads(text) if text else {}


@contextlib.contextmanager
def _in_process(run):
    """While active, report()/report_final() record into RUN (a hops._lib.Run)
    and HOPS_RUN_ID, HOPS_RUN_DIR and HOPS_PARAMS describe it."""
    global _active_run
    env = {"HOPS_RUN_ID": run.id, "HOPS_RUN_DIR": run.dir, "HOPS_PARAMS": run.params_json}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    _active_run = run
    try:
        yield
    finally:
        _active_run = None
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


from . import experiment  # noqa: E402  (needs the names above)
