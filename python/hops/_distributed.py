"""Distributed training in the shape of hops-util-py: collective_all_reduce,
parameter_server and mirrored run train_fn in every task of one distributed
job (`hops launch`), recorded as one hops run.

How: the calling script is started again in every task, with the job's
environment (TF_CONFIG, MASTER_ADDR/MASTER_PORT/RANK/WORLD_SIZE for
torch.distributed, HOPS_RANK...); there the same call runs train_fn() and
ends the task, as horovodrun and torchrun do. So call these from a script
file, and keep what must run once (downloads, prints) behind
``if hops.experiment.is_driver():``. A script may make several such calls:
in the tasks of its k-th job, the calls before it return what they returned
in the driver.
"""

import json
import os
import shutil
import subprocess
import sys
import traceback

import hops
from . import _lib

_TASK_FLAG = "HOPS__PY_DISTRIBUTED"


def is_driver():
    """True in the process that starts a distributed job, False inside its tasks."""
    return not (os.environ.get(_TASK_FLAG, "") != "" and os.environ.get("HOPS_TASK_TYPE"))


def _hops_bin():
    for candidate in (os.environ.get("HOPS_BIN"), os.path.join(_lib._REPO, "build", "hops"),
                      shutil.which("hops")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise RuntimeError("cannot find the hops program: set HOPS_BIN or put hops on PATH")


def _task(train_fn, metric_key):
    """Inside a task: run train_fn, the chief records its return value, exit."""
    from .experiment import _outputs
    try:
        retval = train_fn()
        if os.environ.get("HOPS_TASK_TYPE") == "chief":
            _, finals = _outputs(retval, metric_key)
            if finals:
                hops.report_final(**finals)
    except BaseException:  # the launcher records the failure, naming this task
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(1)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


_calls = 0     # distributed calls made so far by this process
_replay = []   # the driver's results of those calls, handed to the tasks


def _run_job(kind, train_fn, name, description, metric_key, workers, ps, evaluator):
    global _calls
    index = _calls
    _calls += 1
    if not is_driver():
        # A task runs the script from the top: the calls before its own
        # return what they returned in the driver; its own runs train_fn.
        target = int(os.environ[_TASK_FLAG])
        if index < target:
            logdir, result = json.loads(os.environ.get("HOPS__PY_REPLAY", "[]"))[index]
            return logdir, result
        _task(train_fn, metric_key)
    if not callable(train_fn):
        raise TypeError("%s: train_fn must be callable" % kind)
    if not isinstance(workers, int) or workers < 1 or not isinstance(ps, int) or ps < 0:
        raise ValueError("%s: workers must be >= 1 and ps >= 0 (got %r, %r)" % (kind, workers, ps))
    script = sys.argv[0] if sys.argv else ""
    if not script or script == "-c" or not os.path.exists(script):
        raise RuntimeError("%s starts your script again in every task: call it from a script "
                           "file (python3 train.py), not from -c or an interactive session" % kind)
    cmd = [_hops_bin(), "launch", "--workers", str(workers), "--ps", str(ps), "--experiment",
           name, "--json"]
    if evaluator:
        cmd.append("--evaluator")
    if description:
        cmd += ["--tag", "description=%s" % description]
    cmd += ["--tag", "strategy=%s" % kind, "--", sys.executable or "python3"] + list(sys.argv)
    env = dict(os.environ)
    env[_TASK_FLAG] = str(index)
    env["HOPS__PY_REPLAY"] = json.dumps(_replay)
    result = None
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, env=env, text=True) as p:
        for line in p.stdout:  # the tasks' prefixed output, then hops launch's result
            if line.startswith('{"run_id"'):
                result = json.loads(line)
            else:
                sys.stdout.write(line)
                sys.stdout.flush()
        code = p.wait()
    if result is None:
        raise RuntimeError("%s: hops launch failed (exit %d) before recording a run" % (kind, code))
    show = subprocess.run([_hops_bin(), "runs", "show", result["run_id"], "--json"],
                          capture_output=True, text=True, check=True)
    run = json.loads(show.stdout)
    if result["state"] != "FINISHED":
        raise RuntimeError("%s: run %s %s: %s" % (kind, result["run_id"], result["state"],
                                                  run.get("reason") or "exit %d" % code))
    out = (run["run_dir"], dict(run.get("final_metrics") or {}))
    _replay.append(out)
    return out


def collective_all_reduce(train_fn, name="no-name", local_logdir=False, description=None,
                          evaluator=False, metric_key=None, workers=2):
    """Run train_fn() in WORKERS trainer tasks (the chief and WORKERS-1 workers)
    for data-parallel training with all-reduce (TensorFlow's
    MultiWorkerMirroredStrategy, torch DistributedDataParallel, hops'
    collectives), plus an evaluator task when asked. train_fn finds TF_CONFIG,
    the torch.distributed variables and HOPS_RANK/HOPS_WORLD_SIZE/
    HOPS_RENDEZVOUS set. The chief's return value is recorded as hops-util-py
    does (a number as metric_key, default "metric"; a dict's numeric entries).

    Returns (logdir, return_dict): the run's directory and its final metrics.
    Raises RuntimeError naming the task when the job fails."""
    return _run_job("collective_all_reduce", train_fn, name, description, metric_key, workers, 0,
                    evaluator)


def parameter_server(train_fn, name="no-name", local_logdir=False, description=None,
                     evaluator=False, metric_key=None, workers=2, num_ps=1):
    """Run train_fn() in every task of a parameter-server job: the chief,
    WORKERS-1 workers, NUM_PS parameter servers (and an evaluator when
    asked). train_fn reads its role from TF_CONFIG["task"] (a ps task serves,
    e.g. tf.distribute.Server(...).join(); it is stopped with SIGTERM once the
    trainers are done). Otherwise as collective_all_reduce."""
    return _run_job("parameter_server", train_fn, name, description, metric_key, workers, num_ps,
                    evaluator)


def mirrored(train_fn, name="no-name", local_logdir=False, description=None, evaluator=False,
             metric_key=None):
    """Run train_fn() in one task that uses every local device
    (MirroredStrategy), plus an evaluator task when asked. Otherwise as
    collective_all_reduce."""
    return _run_job("mirrored", train_fn, name, description, metric_key, 1, 0, evaluator)
