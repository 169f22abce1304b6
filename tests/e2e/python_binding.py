"""Helper of python_binding.sh: the Python binding (python/hops) end to end.

Usage: python_binding.py MODE, in a hops project, with PYTHONPATH=<repo>/python;
the check modes run $HOPS_BIN. Modes:

  trial         the program run by `hops run`: hops.params, hops.report, report_final
  check-trial   what `hops runs ...` recorded for that run
  outside       hops.report outside hops raises a clear RuntimeError
  launch        hops.experiment.launch, in process (needs libhops.so: HOPS_LIB)
  check-launch  what `hops runs ...` recorded for those launches

Exits 1 with the reason on stderr at the first failed check.
"""

import json
import math
import os
import subprocess
import sys
import threading


def check(cond, what, got=None):
    if not cond:
        sys.exit("FAIL: %s%s" % (what, "" if got is None else " (got %r)" % (got,)))


def strict_json(text):
    """json.loads that refuses bare NaN/Infinity tokens (not JSON)."""
    def bad(tok):
        raise ValueError("bare %s in %r" % (tok, text))
    return json.loads(text, parse_constant=bad)


def hops_json(*args):
    out = subprocess.run([os.environ["HOPS_BIN"], *args, "--json"], check=True,
                         stdout=subprocess.PIPE).stdout
    return strict_json(out)


def runs_of(experiment):
    return [r for r in hops_json("runs", "list") if r["experiment"] == experiment]


def series(run_id):
    """{key: [(step, value)...]} of a run's step metrics."""
    metrics = hops_json("runs", "metrics", run_id)["metrics"]
    return {k: [(p[0], p[1]) for p in pts] for k, pts in metrics.items()}


def finals(run_id):
    return hops_json("runs", "show", run_id)["final_metrics"]


# ---- hops.report under `hops run` --------------------------------------------

def trial():
    import hops
    check(hops.params() == {"lr": 0.1, "name": "x"}, "hops.params()", hops.params())
    for step in range(3):
        hops.report(step, loss=1.0 / (step + 1))
    hops.report(weird=float("nan"))                 # step: one past the last (3)
    hops.report(10, up=math.inf, down=-math.inf, n=7)
    hops.report_final(accuracy=0.93, bad=float("nan"))


def check_trial():
    runs = runs_of("default")
    check(len(runs) == 1 and runs[0]["state"] == "FINISHED", "one FINISHED trial run", runs)
    rid = runs[0]["id"]
    got = series(rid)
    want = {"loss": [(0, 1.0), (1, 0.5), (2, 1.0 / 3)], "weird": [(3, "NaN")],
            "up": [(10, "Infinity")], "down": [(10, "-Infinity")], "n": [(10, 7)]}
    check(got == want, "step metrics of the trial", got)
    check(finals(rid) == {"accuracy": 0.93, "bad": "NaN"}, "final metrics", finals(rid))
    # What the binding wrote, as received: strict JSON lines of the protocol.
    run_dir = hops_json("runs", "show", rid)["run_dir"]
    with open(os.path.join(run_dir, "report.jsonl")) as f:
        lines = [strict_json(line) for line in f]
    check(lines[0] == {"step": 0, "metrics": {"loss": 1.0}}, "first report line", lines[0])
    check(lines[3] == {"metrics": {"weird": "NaN"}}, "report line without step", lines[3])
    check(lines[-1] == {"final": {"accuracy": 0.93, "bad": "NaN"}}, "final line", lines[-1])


def outside():
    import hops
    for k in ("HOPS_REPORT", "HOPS_PARAMS"):
        os.environ.pop(k, None)
    for call in (lambda: hops.report(1, loss=0.5), lambda: hops.report_final(acc=1)):
        try:
            call()
        except RuntimeError as e:
            check("hops run" in str(e) and "experiment.launch" in str(e), "clear message", str(e))
        else:
            check(False, "report outside hops raises RuntimeError")
    check(hops.params() == {}, "params() outside hops", hops.params())


# ---- hops.experiment.launch -----------------------------------------------------

def expect_raise(exc_type, fn):
    try:
        fn()
    except exc_type as e:
        return e
    check(False, "%s raised" % exc_type.__name__)


def launch():
    import hops
    from hops import experiment

    # Reports inside train_fn go to the run in process, never to $HOPS_REPORT.
    sink = os.path.abspath("must-stay-empty.jsonl")
    os.environ["HOPS_REPORT"] = sink
    seen = []

    def train(a, b):
        seen.append((os.environ["HOPS_RUN_ID"], os.environ["HOPS_RUN_DIR"], hops.params()))
        for step in range(3):
            hops.report(step, loss=a * b / (step + 1))
        t = threading.Thread(target=lambda: hops.report(5, from_thread=a))
        t.start()
        t.join()
        hops.report(odd=float("nan"))  # auto step: 6
        return {"acc": a + b, "model": "model-%d.txt" % a}

    logdir, ret = experiment.launch(train, {"a": [1, 2], "b": [5, 3]}, name="zip",
                                    description="zipped")
    check(ret is None, "return_dict of several runs is None", ret)
    check(os.path.isdir(logdir) and sorted(os.listdir(logdir)) == sorted(s[0] for s in seen),
          "logdir of several runs is the experiment folder holding their dirs", logdir)
    check([s[2] for s in seen] == [{"a": 1, "b": 5}, {"a": 2, "b": 3}], "params in train_fn",
          seen)
    check(all(os.path.isdir(s[1]) and os.path.basename(s[1]) == s[0] for s in seen),
          "HOPS_RUN_DIR / HOPS_RUN_ID in train_fn", seen)
    check("HOPS_RUN_ID" not in os.environ, "HOPS_RUN_ID removed after launch")

    def number():
        seen.append(os.environ["HOPS_RUN_DIR"])
        return 0.75
    logdir, ret = experiment.launch(number, name="number")
    check(ret == {"metric": 0.75}, "return_dict of a number", ret)
    check(logdir == seen[-1] and os.path.isdir(logdir), "logdir of one run is its dir", logdir)
    logdir, ret = experiment.launch(lambda lr: 3, {"lr": [0.5]}, name="keyed", metric_key="m")
    check(ret == {"m": 3} and os.path.isdir(logdir), "number with metric_key", (logdir, ret))
    out = {"accuracy": 0.9, "loss": 0.1, "model": "m.txt"}
    logdir, ret = experiment.launch(lambda: out, name="dict", metric_key="accuracy")
    check(ret == out and os.path.isdir(logdir), "return_dict of a dict", ret)
    logdir, ret = experiment.launch(lambda: None, name="none")
    check(ret == {"metric": None}, "return_dict of None", ret)
    expect_raise(ValueError, lambda: experiment.launch(lambda: {"a": 1}, name="nokey",
                                                       metric_key="b"))

    boom = ValueError("boom 42")

    def fails(x):
        hops.report(0, loss=1.0)
        raise boom
    e = expect_raise(ValueError, lambda: experiment.launch(fails, {"x": [1, 2]}, name="fails"))
    check(e is boom, "train_fn's exception re-raised", e)

    def interrupted():
        raise KeyboardInterrupt
    expect_raise(KeyboardInterrupt, lambda: experiment.launch(interrupted, name="interrupted"))

    e = expect_raise(ValueError, lambda: experiment.launch(lambda a, b: 1,
                                                           {"a": [1, 2], "b": [3]}, name="unequal"))
    check("equal" in str(e), "unequal lengths message", str(e))
    expect_raise(RuntimeError, lambda: experiment.launch(
        lambda: experiment.launch(lambda: 1, name="inner"), name="outer"))

    check(not os.path.exists(sink) or os.path.getsize(sink) == 0,
          "in-process reports stay out of $HOPS_REPORT")


def check_launch():
    runs = sorted(runs_of("zip"), key=lambda r: r["params"]["a"])
    check([(r["state"], r["params"], r["tags"]) for r in runs] ==
          [("FINISHED", {"a": 1, "b": 5}, {"description": "zipped"}),
           ("FINISHED", {"a": 2, "b": 3}, {"description": "zipped"})],
          "exactly 2 FINISHED zipped runs", runs)
    for r, (a, b) in zip(runs, [(1, 5), (2, 3)]):
        got = series(r["id"])
        want = {"loss": [(s, a * b / (s + 1)) for s in range(3)], "from_thread": [(5, a)],
                "odd": [(6, "NaN")]}
        check(got == want, "step metrics of zip run a=%d" % a, got)
        check(finals(r["id"]) == {"acc": a + b}, "dict return as finals", finals(r["id"]))
        show = hops_json("runs", "show", r["id"])
        check(show["command"][0].endswith("python3") and
              show["command"][1].endswith("python_binding.py"), "command", show["command"])

    def one(name):
        rs = runs_of(name)
        check(len(rs) == 1, "one run in experiment %s" % name, rs)
        return rs[0]

    check(finals(one("number")["id"]) == {"metric": 0.75}, "number -> final 'metric'")
    check(finals(one("keyed")["id"]) == {"m": 3} and one("keyed")["params"] == {"lr": 0.5},
          "metric_key names a number's final")
    check(finals(one("dict")["id"]) == {"accuracy": 0.9, "loss": 0.1},
          "numeric dict entries as finals", finals(one("dict")["id"]))
    r = one("none")
    check(r["state"] == "FINISHED" and finals(r["id"]) == {}, "None records nothing", r)
    r = one("nokey")
    check(r["state"] == "FAILED" and "metric_key" in (r["reason"] or ""), "missing metric_key", r)
    r = one("fails")  # the second combination never ran
    check((r["state"], r["reason"], r["params"]) == ("FAILED", "ValueError('boom 42')", {"x": 1}),
          "a raising train_fn leaves a FAILED run with the reason", r)
    check(series(r["id"]) == {"loss": [(0, 1.0)]}, "metrics before the failure kept")
    r = one("interrupted")
    check(r["state"] == "KILLED", "KeyboardInterrupt ends the run KILLED", r)
    check(runs_of("unequal") == [], "unequal lengths start no run", runs_of("unequal"))
    check(one("outer")["state"] == "FAILED" and runs_of("inner") == [], "nested launch refused")


MODES = {"trial": trial, "check-trial": check_trial, "outside": outside,
         "launch": launch, "check-launch": check_launch}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in MODES:
        sys.exit(__doc__)
    MODES[sys.argv[1]]()
