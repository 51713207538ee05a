"""A small headless-Chromium driver for the map tests (Chrome DevTools Protocol over a websocket).

Needs a Chromium (Debian package ``chromium``, which ``.ci/run`` installs; or the program named by
the environment variable ``CHROMIUM``, or ``chromium``/``chromium-browser``/``google-chrome`` on
the ``PATH``) and the PyPI package ``websocket-client``; without a browser the tests skip.

Every outside network request is blocked twice: the browser is started with a dead proxy and a host
resolver that resolves nothing, and every request that is not a ``file:`` or ``data:`` URL is
failed through the CDP ``Fetch`` domain. All requests the page tries are recorded
(``Network.requestWillBeSent`` and ``Fetch.requestPaused``), as are console errors, uncaught
exceptions and JavaScript dialogs (``alert``), which are dismissed.

Example
-------
>>> with Browser() as browser:  # doctest: +SKIP
...     page = browser.open("map.html")
...     page.evaluate("document.title")
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--window-size=1100,750",
    "--remote-debugging-port=0",
]


def chromium() -> str | None:
    """Path of a Chromium program: ``$CHROMIUM`` if set, else the first of the usual names."""
    explicit = os.environ.get("CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    return next((path for name in _NAMES if (path := shutil.which(name))), None)


def available() -> str | None:
    """Why the browser tests cannot run (one line), or None when they can."""
    if chromium() is None:
        return "Chromium not found; .ci/run installs it (apt-get install -y chromium)"
    try:
        import websocket  # noqa: F401
    except ImportError:
        return "Python package websocket-client not installed (pip install websocket-client)"
    return None


class Page:
    """One tab: send CDP commands, collect events."""

    def __init__(self, ws_url: str):
        import websocket

        self._ws = websocket.create_connection(ws_url, suppress_origin=True, timeout=30)
        self._id = 0
        self.events: list[dict] = []
        self.requests: list[str] = []
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []

    # -- protocol
    def send(self, method: str, params: dict | None = None, *, timeout: float = 30.0) -> dict:
        """Send a command and wait for its result (events meanwhile are handled)."""
        self._id += 1
        msg_id = self._id
        self._ws.send(json.dumps({"id": msg_id, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = json.loads(self._ws.recv())
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self._handle(msg)
        raise TimeoutError(method)

    def pump(self, seconds: float) -> None:
        """Handle events for a while."""
        import websocket

        deadline = time.monotonic() + seconds
        self._ws.settimeout(0.05)
        try:
            while time.monotonic() < deadline:
                try:
                    msg = json.loads(self._ws.recv())
                except websocket.WebSocketTimeoutException:
                    continue
                if "method" in msg:
                    self._handle(msg)
        finally:
            self._ws.settimeout(30)

    def _handle(self, msg: dict) -> None:
        method, params = msg["method"], msg.get("params", {})
        self.events.append(msg)
        if method == "Network.requestWillBeSent":
            self.requests.append(params["request"]["url"])
        elif method == "Fetch.requestPaused":
            url = params["request"]["url"]
            if url.startswith(("file:", "data:")):
                self._fire("Fetch.continueRequest", {"requestId": params["requestId"]})
            else:
                self.blocked.append(url)
                self._fire(
                    "Fetch.failRequest",
                    {"requestId": params["requestId"], "errorReason": "BlockedByClient"},
                )
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.errors.append(details.get("exception", {}).get("description") or details["text"])
        elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
            self.errors.append(
                " ".join(str(a.get("value", a.get("description"))) for a in params["args"])
            )
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            self.errors.append(params["entry"]["text"] + " " + params["entry"].get("url", ""))
        elif method == "Page.javascriptDialogOpening":
            self.dialogs.append(params["message"])
            self._fire("Page.handleJavaScriptDialog", {"accept": True})

    def _fire(self, method: str, params: dict) -> None:
        self._id += 1
        self._ws.send(json.dumps({"id": self._id, "method": method, "params": params}))

    # -- conveniences
    def evaluate(self, expression: str):
        """Evaluate JavaScript in the page and return its (JSON) value."""
        res = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in res:
            raise RuntimeError(res["exceptionDetails"])
        return res["result"].get("value")

    def screenshot(self) -> bytes:
        """PNG of the viewport."""
        return base64.b64decode(self.send("Page.captureScreenshot", {"format": "png"})["data"])

    def close(self) -> None:
        self._ws.close()


class Browser:
    """A headless Chromium process with a throw-away profile."""

    def __init__(self) -> None:
        self._dir = tempfile.mkdtemp(prefix="geo-chromium-")
        self._proc = subprocess.Popen(
            [chromium(), *FLAGS, f"--user-data-dir={self._dir}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.port = self._port()

    def _port(self) -> int:
        marker = Path(self._dir) / "DevToolsActivePort"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if marker.exists() and marker.read_text().strip():
                return int(marker.read_text().split()[0])
            if self._proc.poll() is not None:
                raise RuntimeError(f"chromium exited with code {self._proc.returncode}")
            time.sleep(0.05)
        raise TimeoutError("chromium did not start")

    def _json(self, path: str, method: str = "GET"):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method)
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    def open(self, path: str | Path, *, settle: float = 0.5) -> Page:
        """Open a file in a new tab with network blocked; return the loaded page."""
        target = self._json("/json/new?about:blank", method="PUT")
        page = Page(target["webSocketDebuggerUrl"])
        for domain in ("Network", "Runtime", "Log", "Page"):
            page.send(f"{domain}.enable")
        page.send("Fetch.enable", {"patterns": [{"urlPattern": "*"}]})
        url = Path(path).resolve().as_uri()
        page.send("Page.navigate", {"url": url})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            page.pump(0.1)
            if any(e["method"] == "Page.loadEventFired" for e in page.events):
                break
        page.pump(settle)
        return page

    def close(self) -> None:
        self._proc.terminate()
        try:
            self._proc.wait(10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(5)
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
