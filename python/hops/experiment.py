"""Experiments in the shape of hops-util-py's ``hops.experiment``, recorded as hops runs.

    from hops import experiment

    def train(lr, layers):
        for step in range(3):
            hops.report(step, loss=1.0 / (step + 1))
        return {"accuracy": 0.9, "loss": 0.1}

    logdir, _ = experiment.launch(train, {"lr": [0.1, 0.01], "layers": [2, 4]},
                                  name="mnist", metric_key="accuracy")
"""

import os
import signal
import sys

import hops
from . import _lib

__all__ = ["launch"]


def _combinations(args_dict):
    """The keyword sets to call train_fn with: hops-util-py zips the lists."""
    if args_dict is None:
        return [{}]
    if not args_dict:
        raise ValueError("args_dict is empty: pass None to run train_fn once without arguments")
    lengths = set()
    for key, values in args_dict.items():
        if not isinstance(key, str):
            raise TypeError("args_dict keys must be argument names (str), not %r" % (key,))
        if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
            raise ValueError("args_dict[%r] must be a list of values" % key)
        lengths.add(len(values))
    if len(lengths) != 1:
        raise ValueError("Length of each function argument list must be equal")
    if lengths == {0}:
        raise ValueError("args_dict lists are empty: nothing to run")
    keys = list(args_dict)
    return [dict(zip(keys, values)) for values in zip(*(args_dict[k] for k in keys))]


def _param_text(value):
    """A parameter as hops stores it: bools as true/false, numbers by repr."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "__index__"):  # int, numpy integers
        return repr(value.__index__())
    if hasattr(value, "__float__"):
        return repr(float(value))
    return value if isinstance(value, str) else str(value)


def _outputs(retval, metric_key):
    """Split train_fn's return value into (return_dict, final metrics to record).

    A number (or None) becomes {metric_key or "metric": value}; a dict is kept
    as is and each numeric entry is recorded. With a dict, metric_key must be
    one of its keys and numeric (hops-util-py's optimization key)."""
    if isinstance(retval, dict):
        finals = {}
        for key, value in retval.items():
            try:
                finals[str(key)] = hops._metric(key, value)
            except TypeError:
                pass  # files, strings...: returned but not a metric
        if metric_key is not None and str(metric_key) not in finals:
            raise ValueError("metric_key %r is not a numeric entry of the returned dict %r"
                             % (metric_key, retval))
        return dict(retval), finals
    key = metric_key or "metric"
    try:
        return {key: retval}, {key: hops._metric(key, retval)}
    except TypeError:
        return {key: retval}, {}  # None and other non-numbers are not recorded


def _run_once(project, train_fn, kwargs, name, tags, metric_key):
    """Record one call of train_fn(**kwargs) as a run; return (run dir, return_dict)."""
    argv = [sys.executable or "python3"] + list(getattr(sys, "argv", []))
    params = [(k, _param_text(v)) for k, v in kwargs.items()]
    run = project.start_run(name, params, tags, argv)
    try:
        try:
            with hops._in_process(run):
                retval = train_fn(**kwargs)
            return_dict, finals = _outputs(retval, metric_key)
            run.log_finals(finals)
        except KeyboardInterrupt:
            run.end(_lib.KILLED, term_signal=signal.SIGINT, reason="KeyboardInterrupt")
            raise
        except BaseException as exc:
            run.end(_lib.FAILED, reason=repr(exc))
            raise
        run.end(_lib.FINISHED)
        return run.dir, return_dict
    finally:
        run.close()


def launch(train_fn, args_dict=None, name='no-name', local_logdir=False, description=None,
           metric_key=None):
    """Run train_fn once, or once per combination of args_dict, each call a hops run.

    Args:
        train_fn: the function to run. Inside it, hops.report(step, **metrics)
            and hops.report_final(**metrics) record into the current run (in
            process, through libhops), and os.environ has HOPS_RUN_ID,
            HOPS_RUN_DIR and HOPS_PARAMS (so hops.params() gives its arguments).
        args_dict: None to call train_fn() once, or {name: [values...]} with
            lists of equal length, zipped as in hops-util-py:
            {'a': [1, 2], 'b': [5, 3]} calls train_fn(a=1, b=5), then
            train_fn(a=2, b=3). Each call's arguments are its run's params
            (bools as true/false, numbers by repr, other values as str()).
        name: the experiment the runs belong to.
        local_logdir: accepted for hops-util-py compatibility; hops always
            writes locally (TensorBoard files are in each run's tb/).
        description: recorded as the tag "description" of each run.
        metric_key: what train_fn's return value is recorded as. A number
            is recorded as the final metric metric_key (default "metric");
            a dict records each numeric entry as a final metric under its
            own key (other entries, e.g. file names, are returned but not
            recorded) and metric_key must name one of them, else the run
            ends FAILED with ValueError. None records nothing.

    A run ends FINISHED when train_fn returns, FAILED (reason: repr of the
    exception) when it raises, KILLED on KeyboardInterrupt; the exception is
    re-raised and later combinations do not run.

    Returns:
        (logdir, return_dict), as hops-util-py's launch:

        - one call (args_dict None, or lists of length 1): logdir is that
          run's directory .hops/runs/<name>/<run-id>/, and return_dict is
          train_fn's return value as a dict: the dict itself, or
          {metric_key or "metric": value} for anything else (None included);
        - several calls: logdir is the experiment's directory
          .hops/runs/<name>/ holding every run's directory, and return_dict
          is None (hops-util-py returns None here too).

    Raises:
        ValueError: args_dict lists of unequal length (nothing is run).
        RuntimeError: called while another launch is running.
        HopsError: no hops project here (see HOPS_PROJECT), or a library error.
    """
    if hops._active_run is not None:
        raise RuntimeError("an experiment is already running: launch() cannot be nested")
    combos = _combinations(args_dict)
    tags = [("description", description)] if description else []
    with _lib.Project() as project:
        results = [_run_once(project, train_fn, kw, name, tags, metric_key) for kw in combos]
    if len(results) == 1:
        return results[0]
    return os.path.dirname(results[-1][0]), None
