"""Inference against a running ``hops serve``, in hops-util-py's call shapes.

``hops serve`` speaks TensorFlow Serving's REST API (docs/rest-api.md)::

    from hops import serving
    serving.make_inference_request("churn", {"instances": [{"age": 41, "country": "SE"}]})
    # {'predictions': [{'classes': 'no', 'scores': [0.91, 0.09]}]}
    serving.make_inference_request("churn", {"examples": [...]}, verb=":classify")

The server is found at $HOPS_SERVING_URL (default ``http://127.0.0.1:8501``);
a bearer token, when the server wants one, comes from $HOPS_SERVING_TOKEN.
Only the standard library is used (urllib).
"""

import json
import os
import urllib.error
import urllib.request

__all__ = ["ServingError", "make_inference_request", "get_status", "get_metadata",
           "get_metrics", "serving_url"]

_VERBS = (":predict", ":classify", ":regress")


class ServingError(Exception):
    """The server answered with an error: ``status`` (HTTP) and ``message``."""

    def __init__(self, status, message):
        super().__init__("HTTP %d: %s" % (status, message))
        self.status = status
        self.message = message


def serving_url():
    """The base URL of the server: $HOPS_SERVING_URL or http://127.0.0.1:8501."""
    return os.environ.get("HOPS_SERVING_URL", "http://127.0.0.1:8501").rstrip("/")


def _model_path(serving_name, version=None, label=None):
    if not isinstance(serving_name, str) or not serving_name:
        raise ValueError("serving_name must be a non-empty string")
    if "/" in serving_name or serving_name.startswith("."):
        raise ValueError("bad serving name %r" % serving_name)
    path = "/v1/models/" + urllib.request.quote(serving_name, safe="")
    if version is not None and label is not None:
        raise ValueError("give a version or a label, not both")
    if version is not None:
        path += "/versions/%d" % int(version)
    elif label is not None:
        path += "/labels/" + urllib.request.quote(str(label), safe="")
    return path


def _request(method, path, body=None, timeout=30.0):
    headers = {"Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body, allow_nan=False).encode()
        headers["Content-Type"] = "application/json"
    token = os.environ.get("HOPS_SERVING_TOKEN")
    if token:
        headers["Authorization"] = "Bearer " + token
    req = urllib.request.Request(serving_url() + path, data=data, method=method,
                                 headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            text = resp.read().decode()
    except urllib.error.HTTPError as e:
        text = e.read().decode(errors="replace")
        try:
            message = json.loads(text).get("error", text)
        except (ValueError, AttributeError):
            message = text
        raise ServingError(e.code, message) from None
    return text


def make_inference_request(serving_name, data, verb=":predict", version=None, label=None,
                           timeout=30.0):
    """POST DATA (a dict: {"instances": [...]}, {"inputs": ...} or, for
    :classify and :regress, {"examples": [...], "context": {...}}) to
    /v1/models/SERVING_NAME[/versions/V|/labels/L]VERB and return the
    decoded answer. A list is taken as instances. Raises ServingError with
    the server's message on an HTTP error."""
    if verb not in _VERBS:
        raise ValueError("verb must be one of %s, not %r" % (", ".join(_VERBS), verb))
    if isinstance(data, list):
        data = {"instances": data} if verb == ":predict" else {"examples": data}
    if not isinstance(data, dict):
        raise TypeError("data must be a dict (or a list of rows), not %s" % type(data).__name__)
    return json.loads(_request("POST", _model_path(serving_name, version, label) + verb, data,
                               timeout))


def get_status(serving_name, version=None, label=None):
    """GET /v1/models/NAME[...]: {"model_version_status": [...]}."""
    return json.loads(_request("GET", _model_path(serving_name, version, label)))


def get_metadata(serving_name, version=None, label=None):
    """GET /v1/models/NAME[...]/metadata: the model's signature and header."""
    return json.loads(_request("GET", _model_path(serving_name, version, label) + "/metadata"))


def get_metrics():
    """GET /metrics: the Prometheus text."""
    return _request("GET", "/metrics")
