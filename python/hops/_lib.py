"""ctypes glue over libhops.so: loading, declarations, and small wrappers.

The library is found, in order, at $HOPS_LIB, <repo>/build/libhops.so,
<repo>/build-test/libhops.so, or wherever ctypes.util.find_library("hops")
points. It is loaded on first use, so ``import hops`` alone never needs it.

A sanitizer-built libhops.so needs the ASan runtime loaded first:
``LD_PRELOAD=$(gcc -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0``.
"""

import ctypes
import ctypes.util
import json
import os
import threading

__all__ = ["HopsError", "Project", "Run", "load",
           "RUNNING", "FINISHED", "FAILED", "KILLED", "EARLY_STOPPED"]

# hops_run_state (run.h)
RUNNING, FINISHED, FAILED, KILLED, EARLY_STOPPED = 0, 1, 2, 3, 4

_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class HopsError(Exception):
    """A libhops call failed.

    ``status`` is the negative hops_status code (HOPS_ENOPROJECT is -8 ...),
    ``message`` the library's hops_last_error() text (or hops_strerror()
    when the library left none).
    """

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


class _Project(ctypes.Structure):
    """Opaque hops_project."""


class _Run(ctypes.Structure):
    """Opaque hops_run."""


class hops_kv(ctypes.Structure):
    _fields_ = [("key", ctypes.c_char_p), ("value", ctypes.c_char_p)]


class hops_run_options(ctypes.Structure):
    """Mirror of hops_run_options in include/hops/run.h (version 1)."""

    _fields_ = [
        ("version", ctypes.c_uint),
        ("experiment", ctypes.c_char_p),
        ("params", ctypes.POINTER(hops_kv)),
        ("n_params", ctypes.c_size_t),
        ("tags", ctypes.POINTER(hops_kv)),
        ("n_tags", ctypes.c_size_t),
        ("argv", ctypes.POINTER(ctypes.c_char_p)),
        ("argc", ctypes.c_size_t),
        ("cwd", ctypes.c_char_p),
    ]


HOPS_RUN_OPTIONS_VERSION = 1

_P = ctypes.POINTER(_Project)
_R = ctypes.POINTER(_Run)
_S = ctypes.c_int  # hops_status
_str = ctypes.c_char_p

_SIGNATURES = {
    "hops_project_open": (_S, [ctypes.POINTER(_P), _str]),
    "hops_project_close": (None, [_P]),
    "hops_project_root": (_str, [_P]),
    "hops_run_start": (_S, [ctypes.POINTER(_R), _P, ctypes.POINTER(hops_run_options)]),
    "hops_run_id": (_str, [_R]),
    "hops_run_dir": (_str, [_R]),
    "hops_run_params_json": (_str, [_R]),
    "hops_run_log_metric": (_S, [_R, _str, ctypes.c_int64, ctypes.c_double]),
    "hops_run_log_final": (_S, [_R, _str, ctypes.c_double]),
    "hops_run_flush": (_S, [_R]),
    "hops_run_end": (_S, [_R, ctypes.c_int, ctypes.c_int, ctypes.c_int, _str]),
    "hops_run_free": (None, [_R]),
    "hops_hpo_spec_parse": (_S, [ctypes.POINTER(ctypes.c_void_p), _str, ctypes.c_size_t]),
    "hops_hpo_spec_free": (None, [ctypes.c_void_p]),
    "hops_hpo_run": (_S, [_P, ctypes.c_void_p, ctypes.c_void_p]),
    "hops_hpo_show_json": (_S, [_P, _str, ctypes.POINTER(ctypes.c_void_p)]),
    "hops_free": (None, [ctypes.c_void_p]),
    "hops_last_error": (_str, []),
    "hops_strerror": (_str, [ctypes.c_int]),
}

_lib = None
_load_lock = threading.Lock()


def _candidates():
    env = os.environ.get("HOPS_LIB")
    if env:
        return [env]
    paths = [os.path.join(_REPO, d, "libhops.so") for d in ("build", "build-test")]
    found = [p for p in paths if os.path.exists(p)]
    system = ctypes.util.find_library("hops")
    return found + ([system] if system else [])


def load():
    """Return the loaded libhops (a ctypes.CDLL), loading it on first call."""
    global _lib
    with _load_lock:
        if _lib is not None:
            return _lib
        candidates = _candidates()
        if not candidates:
            raise OSError(
                "libhops.so not found: build it (`make` gives build/libhops.so) "
                "or set HOPS_LIB to its path")
        try:
            lib = ctypes.CDLL(candidates[0])
        except OSError as exc:
            raise OSError("cannot load libhops from %s: %s" % (candidates[0], exc)) from None
        for name, (restype, argtypes) in _SIGNATURES.items():
            fn = getattr(lib, name)
            fn.restype = restype
            fn.argtypes = argtypes
        _lib = lib
        return lib


def _check(status):
    """Raise HopsError for a non-zero hops_status (call right after the failing call)."""
    if status != 0:
        lib = load()
        msg = (lib.hops_last_error() or b"").decode("utf-8", "replace")
        if not msg:
            msg = lib.hops_strerror(status).decode("utf-8", "replace")
        raise HopsError(status, msg)


def _enc(text, what):
    """Encode TEXT for C, refusing embedded NULs that C would silently cut at."""
    data = os.fsencode(text)
    if b"\0" in data:
        raise ValueError("%s contains a NUL character: %r" % (what, text))
    return data


def _kv_array(pairs, what):
    arr = (hops_kv * len(pairs))()
    for i, (k, v) in enumerate(pairs):
        arr[i].key = _enc(k, what + " name")
        arr[i].value = _enc(v, what + " value")
    return arr


class hops_slots(ctypes.Structure):
    _fields_ = [("cpu", ctypes.c_uint), ("gpu", ctypes.c_uint), ("mem", ctypes.c_double)]


# hops_objective_fn and hops_hpo_event_fn (hpo.h)
OBJECTIVE_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p,
                                ctypes.POINTER(ctypes.c_double),
                                ctypes.POINTER(ctypes.c_char_p), ctypes.c_void_p)
EVENT_FN = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_void_p)


class hops_hpo_options(ctypes.Structure):
    """Mirror of hops_hpo_options in include/hops/hpo.h (version 1)."""

    _fields_ = [
        ("version", ctypes.c_uint),
        ("spec", ctypes.c_void_p),
        ("experiment", ctypes.c_char_p),
        ("argv", ctypes.POINTER(ctypes.c_char_p)),
        ("argc", ctypes.c_size_t),
        ("slots", hops_slots),
        ("executor", ctypes.c_int),
        ("slurm_partition", ctypes.c_char_p),
        ("objective", OBJECTIVE_FN),
        ("objective_ud", ctypes.c_void_p),
        ("on_event", EVENT_FN),
        ("event_ud", ctypes.c_void_p),
        ("handle_signals", ctypes.c_int),
        ("cwd", ctypes.c_char_p),
    ]


class hops_hpo_result(ctypes.Structure):
    """Mirror of hops_hpo_result in include/hops/hpo.h."""

    _fields_ = [
        ("experiment", ctypes.c_char * 129),
        ("state", ctypes.c_char * 16),
        ("trials", ctypes.c_int64),
        ("finished", ctypes.c_int64),
        ("failed", ctypes.c_int64),
        ("early_stopped", ctypes.c_int64),
        ("best_trial", ctypes.c_int64),
        ("best_value", ctypes.c_double),
        ("best_run", ctypes.c_char * 32),
        ("term_signal", ctypes.c_int),
    ]


HOPS_HPO_OPTIONS_VERSION = 1
HOPS_EEXISTS = -5


class Project:
    """An open hops project (hops_project_open: HOPS_PROJECT, else walk up from cwd)."""

    def __init__(self, start=None):
        self._lib = load()
        self._p = _P()
        _check(self._lib.hops_project_open(
            ctypes.byref(self._p), None if start is None else _enc(start, "path")))

    @property
    def root(self):
        """The project's absolute root directory."""
        return os.fsdecode(self._lib.hops_project_root(self._p))

    def start_run(self, experiment, params=(), tags=(), argv=()):
        """Start a RUNNING run; PARAMS and TAGS are (name, text) pairs, ARGV strings."""
        params, tags, argv = list(params), list(tags), list(argv)
        opts = hops_run_options()
        opts.version = HOPS_RUN_OPTIONS_VERSION
        opts.experiment = _enc(experiment, "experiment name")
        p_arr, t_arr = _kv_array(params, "parameter"), _kv_array(tags, "tag")
        a_arr = (ctypes.c_char_p * len(argv))(*[_enc(a, "argument") for a in argv])
        opts.params, opts.n_params = p_arr, len(params)
        opts.tags, opts.n_tags = t_arr, len(tags)
        opts.argv, opts.argc = a_arr, len(argv)
        handle = _R()
        _check(self._lib.hops_run_start(ctypes.byref(handle), self._p, ctypes.byref(opts)))
        return Run(self, handle)

    def search(self, spec_json, experiment, objective):
        """Run a search (hops_hpo_run) with the in-process OBJECTIVE(run, params) ->
        (status, value, reason): status 0 ok, >0 failed, <0 stop. Returns
        (status, hops_hpo_result); a non-zero status is left for the caller."""
        spec = ctypes.c_void_p()
        data = spec_json.encode("utf-8")
        _check(self._lib.hops_hpo_spec_parse(ctypes.byref(spec), data, len(data)))
        reasons = []  # keep reason strings alive until the next call

        def trampoline(run_ptr, params_json, value_out, reason_out, _ud):
            run = Run.__new__(Run)
            run._lib, run._project, run._h = self._lib, self, ctypes.cast(run_ptr, _R)
            run._lock, run._next_step = threading.Lock(), 0
            run.id = self._lib.hops_run_id(run._h).decode()
            run.dir = os.fsdecode(self._lib.hops_run_dir(run._h))
            run.params_json = params_json.decode("utf-8", "replace")
            try:
                status, value, reason = objective(run, run.params_json)
            finally:
                run._h = _R()  # the library ends and frees it
            value_out[0] = float("nan") if value is None else value
            if reason:
                reasons[:] = [ctypes.c_char_p(reason.encode("utf-8", "replace"))]
                reason_out[0] = reasons[0]
            return status

        cb = OBJECTIVE_FN(trampoline)
        opts = hops_hpo_options()
        opts.version = HOPS_HPO_OPTIONS_VERSION
        opts.spec = spec
        opts.experiment = _enc(experiment, "experiment name")
        opts.objective = cb
        res = hops_hpo_result()
        try:
            status = self._lib.hops_hpo_run(self._p, ctypes.byref(opts), ctypes.byref(res))
            message = (self._lib.hops_last_error() or b"").decode("utf-8", "replace")
        finally:
            self._lib.hops_hpo_spec_free(spec)
        return status, message, res

    def search_json(self, experiment):
        """hops_hpo_show_json as a dict."""
        out = ctypes.c_void_p()
        _check(self._lib.hops_hpo_show_json(self._p, _enc(experiment, "experiment name"),
                                            ctypes.byref(out)))
        try:
            return json.loads(ctypes.string_at(out.value).decode("utf-8"))
        finally:
            self._lib.hops_free(out)

    def close(self):
        if self._p:
            self._lib.hops_project_close(self._p)
            self._p = _P()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Run:
    """A hops_run being recorded. Calls are serialized with a lock, so threads
    started by the training function may log too; after close() they raise."""

    def __init__(self, project, handle):
        self._lib = project._lib
        self._project = project  # the C run borrows the project: keep it alive
        self._h = handle
        self._lock = threading.Lock()
        self._next_step = 0
        self.id = self._lib.hops_run_id(handle).decode()
        self.dir = os.fsdecode(self._lib.hops_run_dir(handle))
        self.params_json = self._lib.hops_run_params_json(handle).decode("utf-8", "replace")

    def _handle(self):
        if not self._h:
            raise HopsError(-15, "run %s has ended" % self.id)  # HOPS_ESTATE
        return self._h

    def log_metrics(self, step, metrics):
        """Record {name: float} at STEP; STEP None means one past the highest step so far."""
        with self._lock:
            h = self._handle()
            if step is None:
                step = self._next_step
            self._next_step = max(self._next_step, step + 1)
            for key, value in metrics.items():
                _check(self._lib.hops_run_log_metric(h, _enc(key, "metric name"), step, value))

    def log_finals(self, metrics):
        """Record final metrics {name: float}."""
        with self._lock:
            h = self._handle()
            for key, value in metrics.items():
                _check(self._lib.hops_run_log_final(h, _enc(key, "metric name"), value))

    def end(self, state, exit_code=-1, term_signal=0, reason=None):
        """Flush and set the final state (FINISHED, FAILED or KILLED); exit_code -1: none."""
        with self._lock:
            _check(self._lib.hops_run_end(self._handle(), state, exit_code, term_signal,
                                          None if reason is None else reason.encode("utf-8", "replace")))

    def close(self):
        """Free the handle (a run never ended is recorded FAILED by the library)."""
        with self._lock:
            if self._h:
                self._lib.hops_run_free(self._h)
                self._h = _R()
