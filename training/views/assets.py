"""Plotly served straight from the installed ``plotly`` package: no copy of the library lives in this repository.

The file is 4-5 MB; it is sent gzipped (compressed once per process) with a year-long cache, and the pages
reference it with the package version in the query string, so an upgrade reaches browsers at once.
"""

import gzip
import importlib.metadata
import importlib.util
from functools import lru_cache
from pathlib import Path

from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.urls import reverse
from django.views.decorators.http import require_GET

CACHE_CONTROL = "public, max-age=31536000, immutable"
CONTENT_TYPE = "text/javascript; charset=utf-8"


@lru_cache(maxsize=1)
def plotly_js_path() -> Path | None:
    # find_spec locates the package without importing it (plotly's import pulls in much more than the JS file).
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "package_data" / "plotly.min.js"
    return path if path.is_file() else None


@lru_cache(maxsize=1)
def plotly_version() -> str:
    try:
        return importlib.metadata.version("plotly")
    except importlib.metadata.PackageNotFoundError:
        return "missing"


def plotly_url() -> str:
    return f"{reverse('training:plotly-js')}?v={plotly_version()}"


@lru_cache(maxsize=1)
def _gzipped(path: Path, mtime_ns: int) -> bytes:
    return gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)


@require_GET
def plotly_js(request: HttpRequest) -> HttpResponse:
    path = plotly_js_path()
    if path is None:
        raise Http404("The plotly package is not installed (pip install plotly).")
    stat = path.stat()
    etag = f'"plotly-{plotly_version()}-{stat.st_size}-{stat.st_mtime_ns}"'
    if etag in request.headers.get("If-None-Match", ""):
        response: HttpResponse = HttpResponseNotModified()
    elif "gzip" in request.headers.get("Accept-Encoding", ""):
        response = HttpResponse(_gzipped(path, stat.st_mtime_ns), content_type=CONTENT_TYPE)
        response["Content-Encoding"] = "gzip"
    else:
        response = FileResponse(path.open("rb"), content_type=CONTENT_TYPE)
    response["ETag"] = etag
    response["Cache-Control"] = CACHE_CONTROL
    response["Vary"] = "Accept-Encoding"
    return response
