"""Experiments in the shape of hops-util-py's ``hops.experiment``, recorded as hops runs.

    from hops import experiment

    def train(lr, layers):
        for step in range(3):
            hops.report(step, loss=1.0 / (step + 1))
        return {"accuracy": 0.9, "loss": 0.1}

    logdir, _ = experiment.launch(train, {"lr": [0.1, 0.01], "layers": [2, 4]},
                                  name="mnist", metric_key="accuracy")
"""

import json
import math
import os
import signal
import sys

import hops
from . import _lib

__all__ = ["launch", "differential_evolution", "grid_search", "random_search", "Direction"]


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


# ---- searches: hops-util-py's grid_search, random_search, differential_evolution ----

class Direction:
    """hops-util-py's direction constants."""
    MAX = "max"
    MIN = "min"


def _direction(direction):
    d = str(direction).lower()
    if d in ("max", "maximize"):
        return "max"
    if d in ("min", "minimize"):
        return "min"
    raise ValueError("direction must be 'max' or 'min', not %r" % (direction,))


def _objective_value(retval, key):
    """The number a trial is judged by: hops-util-py's rules. A number is the
    metric itself; a dict must hold OPTIMIZATION_KEY with a number."""
    if isinstance(retval, dict):
        if key not in retval:
            raise ValueError("the returned dict %r has no optimization_key %r" % (retval, key))
        return hops._metric(key, retval[key])
    return hops._metric(key, retval)


def _search(train_fn, space, sampler, name, direction, optimization_key, description, seed):
    if hops._active_run is not None:
        raise RuntimeError("an experiment is already running: searches cannot be nested")
    if not callable(train_fn):
        raise TypeError("train_fn must be callable")
    key = optimization_key or "metric"
    spec = {"space": space, "sampler": sampler, "direction": _direction(direction),
            "metric": key, "seed": int(seed), "max_failures": 1000000}
    interrupted, errors = [], []

    def objective(run, params_json):
        kwargs = json.loads(params_json)
        try:
            with hops._in_process(run):
                retval = train_fn(**kwargs)
            value = _objective_value(retval, key)
            _return_dict, finals = _outputs(retval, key)
            finals.pop(key, None)  # the library records the objective itself
            run.log_finals(finals)
            return (0, value, None) if not math.isnan(value) else (1, None, "the objective is NaN")
        except KeyboardInterrupt:
            interrupted.append(True)
            return -1, None, "KeyboardInterrupt"
        except Exception as exc:  # the trial fails; the search goes on
            errors.append(exc)
            return 1, None, repr(exc)

    with _lib.Project() as project:
        experiment, n = name, 1
        while True:
            spec["name"] = experiment
            status, message, res = project.search(json.dumps(spec), experiment, objective)
            if status != _lib.HOPS_EEXISTS:
                break
            n += 1
            experiment = "%s-%d" % (name, n)
        if interrupted:
            raise KeyboardInterrupt
        if status != 0:
            raise _lib.HopsError(status, message)
        doc = project.search_json(experiment)
        if errors and not doc.get("best"):
            raise errors[-1]  # every trial failed: as hops-util-py, the error surfaces
        logdir = os.path.join(project.root, ".hops", "runs", experiment)
    best = doc.get("best") or {}
    return logdir, dict(best.get("params") or {})


def grid_search(train_fn, grid_dict, direction=Direction.MAX, name="no-name", local_logdir=False,
                description=None, optimization_key="metric", seed=1):
    """Run train_fn(**params) for every combination of grid_dict's lists
    (the cartesian product: {"lr": [0.1, 0.3], "layers": [2, 4]} gives 4 trials),
    each trial a hops run of experiment NAME (-2, -3... when NAME already has a
    search), recorded as a search `hops hpo show NAME` displays.

    train_fn returns a number (the metric) or a dict holding optimization_key
    (hops-util-py's rules); a trial that raises is recorded FAILED and the
    search goes on (when every trial failed, the last exception is raised). Returns (logdir, best_params): the experiment's directory
    .hops/runs/NAME and the parameters of the best trial."""
    if not isinstance(grid_dict, dict) or not grid_dict:
        raise ValueError("grid_dict must be a non-empty {name: [values...]}")
    space = {}
    for k, values in grid_dict.items():
        if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or not len(values):
            raise ValueError("grid_dict[%r] must be a non-empty list of values" % (k,))
        space[k] = {"type": "categorical", "values": list(values)}
    return _search(train_fn, space, {"type": "grid"}, name, direction, optimization_key,
                   description, seed)


def random_search(train_fn, boundary_dict, direction=Direction.MAX, samples=10, name="no-name",
                  local_logdir=False, description=None, optimization_key="metric", seed=1):
    """SAMPLES trials at points drawn (seeded) from boundary_dict:
    {"lr": [0.001, 0.1], "layers": [2, 8], "act": ["relu", "tanh"]} ([lo, hi]
    with two ints is an int range, with a float a float range; a list of
    strings is categorical). Otherwise as grid_search."""
    return _search(train_fn, dict(boundary_dict), {"type": "random", "trials": int(samples)}, name,
                   direction, optimization_key, description, seed)


def differential_evolution(train_fn, boundary_dict, direction=Direction.MAX, generations=4,
                           population=6, mutation=0.5, crossover=0.7, name="no-name",
                           local_logdir=False, description=None, optimization_key="metric",
                           mode="async", seed=1):
    """Differential evolution (DE/rand/1/bin) over boundary_dict (as in
    random_search) with hops-util-py's parameters: population x (generations
    + 1) evaluations; mode "generational" is hops-util-py's (greedy selection
    once a whole generation is evaluated), "async" (default) is steady state.
    Points already evaluated are not run again. Otherwise as grid_search."""
    sampler = {"type": "de", "population": int(population), "generations": int(generations),
               "mutation": float(mutation), "crossover": float(crossover), "mode": mode}
    return _search(train_fn, dict(boundary_dict), sampler, name, direction, optimization_key,
                   description, seed)


# Distributed training (one hops launch job per call): python/hops/_distributed.py.
from ._distributed import collective_all_reduce, is_driver, mirrored, parameter_server  # noqa: E402

__all__ += ["collective_all_reduce", "parameter_server", "mirrored", "is_driver"]
