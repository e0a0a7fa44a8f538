"""Safe PDF rendering with WeasyPrint.

* A restricted ``URLFetcher``: only ``data:`` URIs and files under the project's
  own print assets (``static/pdf``). No other ``file://`` path, no network, no
  redirects. (With WeasyPrint's default fetcher, ``<link rel="attachment"
  href="file:///etc/passwd">`` would embed that file in the PDF.)
* Every value in the HTML comes from a Django template with autoescaping on.
* Each render runs in a forked child process with a wall-clock time limit and
  an address-space cap, so a pathological document cannot hang or exhaust the
  worker. The warm parent's imports (WeasyPrint, fonts) are shared, not reloaded.
"""

from __future__ import annotations

import mimetypes
import os
import resource
import select
import signal
import struct
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

PRINT_ASSETS = Path(settings.BASE_DIR) / "static" / "pdf"
STYLESHEET = PRINT_ASSETS / "print.css"


class RenderError(Exception):
    """The document could not be rendered (too slow, too big, or broken)."""


class PortalURLFetcher(URLFetcher):
    """Serves the project's own print assets and data URIs; refuses everything else."""

    def __init__(self) -> None:
        super().__init__(timeout=2, allowed_protocols={"data", "file"}, allow_redirects=False)
        self.refused: list[str] = []

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        scheme = url.split(":", 1)[0].lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file":
            path = Path(unquote(urlsplit(url).path)).resolve()
            root = PRINT_ASSETS.resolve()
            if path.is_relative_to(root) and path.is_file():
                kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(
                    url, body=path.read_bytes(), headers={"Content-Type": kind}
                )
        self.refused.append(url)
        raise ValueError(f"Refused to fetch {url}: only the portal's own print assets")


@dataclass
class Rendered:
    pdf: bytes
    pages: int
    seconds: float


def _render_here(html: str, *, base_url: str) -> tuple[bytes, int]:
    fetcher = PortalURLFetcher()
    document = HTML(string=html, base_url=base_url, url_fetcher=fetcher).render(
        stylesheets=[CSS(filename=str(STYLESHEET), url_fetcher=fetcher)]
    )
    return document.write_pdf(), len(document.pages)


def _address_space() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def render_pdf(
    html: str, *, time_limit: float | None = None, memory_mb: int | None = None
) -> Rendered:
    """Render ``html`` to PDF in a child process under a time limit and a memory cap."""
    time_limit = time_limit or settings.CSF_PDF_TIME_LIMIT
    memory_mb = memory_mb or settings.CSF_PDF_MEMORY_MB
    base_url = PRINT_ASSETS.as_uri() + "/"
    started = time.monotonic()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's coverage is not collected
        code = 1
        try:
            os.close(read_end)
            cap = _address_space() + memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
            pdf, pages = _render_here(html, base_url=base_url)
            payload = struct.pack("!II", 0, pages) + pdf
            code = 0
        except MemoryError:
            payload = struct.pack("!II", 1, 0) + b"memory"
        except BaseException as exc:  # anything else: report it, never raise in the child
            payload = struct.pack("!II", 2, 0) + type(exc).__name__.encode()
        try:
            with os.fdopen(write_end, "wb") as out:
                out.write(payload)
        finally:
            os._exit(code)
    os.close(write_end)
    chunks: list[bytes] = []
    deadline = started + time_limit
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                os.kill(pid, signal.SIGKILL)
                raise RenderError(f"The document took longer than {time_limit:.0f} seconds")
            ready, _, _ = select.select([read_end], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(read_end, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_end)
        os.waitpid(pid, 0)
    data = b"".join(chunks)
    if len(data) < 8:
        raise RenderError("The document renderer stopped unexpectedly")
    status, pages = struct.unpack("!II", data[:8])
    if status == 1:
        raise RenderError(f"The document needed more than {memory_mb} MB of memory")
    if status != 0:
        raise RenderError(f"The document could not be rendered ({data[8:].decode()})")
    return Rendered(pdf=data[8:], pages=pages, seconds=time.monotonic() - started)
