"""The model registry in the shape of hops-util-py's ``hops.model``, plus batch prediction.

    from hops import model

    v = model.export("model.hops", "churn")          # the next version: {"version": 2, ...}
    best = model.get_best_model("churn", "roc_auc", model.Metric.MAX)
    preds = model.predict("churn:2", "new.csv")      # [{"prediction": "1", "probabilities": {...}}]

Models are hops model files, trained natively by ``hops train`` (see docs/cmd-train.md);
their metrics come from the file (the test metrics recorded at training). Each call
opens the project (HOPS_PROJECT, else found from the current directory) through
libhops; failures raise ``hops.HopsError`` with the library's message.
"""

import ctypes
import json
import os

from . import _lib

__all__ = ["Metric", "export", "get_best_model", "get_model", "list_models", "predict"]


class Metric:
    """Directions for get_best_model, as hops-util-py's ``Metric``."""

    MAX = "MAX"
    MIN = "MIN"


class _ReadOptions(ctypes.Structure):
    """Mirror of hops_read_options (include/hops/data.h, version 1)."""

    _fields_ = [("version", ctypes.c_uint), ("format", ctypes.c_int),
                ("delimiter", ctypes.c_char), ("no_header", ctypes.c_int),
                ("threads", ctypes.c_int), ("chunk_size", ctypes.c_size_t)]


class _PredictOptions(ctypes.Structure):
    """Mirror of hops_predict_options (include/hops/model.h, version 1)."""

    _fields_ = [("version", ctypes.c_uint), ("read", _ReadOptions),
                ("output", ctypes.c_char_p), ("rows_in_json", ctypes.c_int),
                ("threads", ctypes.c_int)]


_P = ctypes.POINTER(ctypes.c_void_p)  # hops_project *, opaque here
_OUT = ctypes.POINTER(ctypes.c_void_p)
_SIGNATURES = {
    "hops_project_open": (ctypes.c_int, [ctypes.POINTER(ctypes.c_void_p), ctypes.c_char_p]),
    "hops_project_close": (None, [ctypes.c_void_p]),
    "hops_model_register": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, _OUT]),
    "hops_model_best_json": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p,
                                            ctypes.c_int, _OUT]),
    "hops_model_show_json": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p, _OUT]),
    "hops_model_list_json": (ctypes.c_int, [ctypes.c_void_p, _OUT]),
    "hops_model_open": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p, _OUT]),
    "hops_model_predict": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p,
                                          ctypes.POINTER(_PredictOptions), _OUT]),
    "hops_model_free": (None, [ctypes.c_void_p]),
    "hops_free": (None, [ctypes.c_void_p]),
}


def _lib_fns():
    """libhops with this module's functions declared (on a handle of its own, so the
    declarations in _lib stay as they are)."""
    lib = _lib.load()
    own = ctypes.CDLL(lib._name)
    for name, (restype, argtypes) in _SIGNATURES.items():
        fn = getattr(own, name)
        fn.restype = restype
        fn.argtypes = argtypes
    return own


_own = None


def _fns():
    global _own
    if _own is None:
        _own = _lib_fns()
    return _own


class _Project:
    def __enter__(self):
        self.lib = _fns()
        self.p = ctypes.c_void_p()
        _lib._check(self.lib.hops_project_open(ctypes.byref(self.p), None))
        return self

    def __exit__(self, *exc):
        self.lib.hops_project_close(self.p)
        return False


def _json(lib, out):
    """Decode and free a JSON document the library handed out."""
    try:
        return json.loads(ctypes.string_at(out.value).decode("utf-8"))
    finally:
        lib.hops_free(out)


def export(model_path, model_name, metrics=None):
    """Register the hops model file MODEL_PATH as the next version of MODEL_NAME
    (1, 2, ...); returns that version as ``hops model show`` describes it. The
    metrics are the file's own: passing METRICS is refused rather than ignored."""
    if metrics:
        raise ValueError("hops models carry their test metrics; export takes none")
    with _Project() as pr:
        out = ctypes.c_void_p()
        _lib._check(pr.lib.hops_model_register(pr.p, _lib._enc(model_name, "model name"),
                                               _lib._enc(model_path, "path"), ctypes.byref(out)))
        return _json(pr.lib, out)


def get_best_model(name, metric, direction=Metric.MAX):
    """The version of NAME with the best test METRIC (Metric.MAX or Metric.MIN)."""
    if direction not in (Metric.MAX, Metric.MIN):
        raise ValueError("direction is Metric.MAX or Metric.MIN, not %r" % (direction,))
    with _Project() as pr:
        out = ctypes.c_void_p()
        _lib._check(pr.lib.hops_model_best_json(pr.p, _lib._enc(name, "model name"),
                                                _lib._enc(metric, "metric"),
                                                1 if direction == Metric.MAX else 0,
                                                ctypes.byref(out)))
        return _json(pr.lib, out)


def get_model(name, version=None):
    """Everything about NAME's VERSION (default: the latest), with the file's header."""
    spec = name if version is None else "%s:%d" % (name, version)
    with _Project() as pr:
        out = ctypes.c_void_p()
        _lib._check(pr.lib.hops_model_show_json(pr.p, _lib._enc(spec, "model"),
                                                ctypes.byref(out)))
        return _json(pr.lib, out)


def list_models():
    """One dict per registered model: name, latest, versions, type, metrics, ..."""
    with _Project() as pr:
        out = ctypes.c_void_p()
        _lib._check(pr.lib.hops_model_list_json(pr.p, ctypes.byref(out)))
        return _json(pr.lib, out)


def predict(spec, data_path, threads=0):
    """Predict every row of the CSV / JSON Lines file DATA_PATH with model SPEC
    ("NAME" or "NAME:VERSION"). Returns (predictions, metrics): a list with one
    {"prediction", "probabilities"} dict per row for classifiers (a number for
    regression), and the metrics on the file when it has the label column, else None."""
    with _Project() as pr:
        m = ctypes.c_void_p()
        _lib._check(pr.lib.hops_model_open(pr.p, _lib._enc(spec, "model"), ctypes.byref(m)))
        try:
            opts = _PredictOptions()
            opts.version = 1
            opts.read.version = 1
            opts.rows_in_json = 1
            opts.threads = threads
            out = ctypes.c_void_p()
            _lib._check(pr.lib.hops_model_predict(m, _lib._enc(os.fspath(data_path), "path"),
                                                  ctypes.byref(opts), ctypes.byref(out)))
            doc = _json(pr.lib, out)
        finally:
            pr.lib.hops_model_free(m)
        return doc["predictions"], doc["metrics"]
