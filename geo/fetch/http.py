"""Network access of ``barrier fetch``: retried downloads with checksums, STAC search, signing.

Every request goes through one :class:`requests.Session` whose adapter retries connection
errors, timeouts and HTTP 5xx/429 with exponential back-off (:data:`ATTEMPTS` attempts in all);
a download that stops short (fewer bytes than announced) is retried the same way. A download is
written to a temporary name and renamed only once complete and checked.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit

from geo.errors import DataError, UsageError

__all__ = [
    "ATTEMPTS",
    "BACKOFF",
    "TIMEOUT",
    "Unreachable",
    "checksum_list",
    "download",
    "public_url",
    "search_items",
    "session",
    "signer",
]

#: Attempts of one request in all (the first and the retries).
ATTEMPTS = 4
#: Back-off factor, s: urllib3 waits 0, 2, 4 s between the attempts of a request; a download
#: cut short waits 1, 2, 4 s before the next attempt.
BACKOFF = 1.0
#: Connect and read timeout of one request, s.
TIMEOUT = (10.0, 60.0)
_RETRY_STATUS = (429, 500, 502, 503, 504)
_CHUNK = 1 << 20


class Unreachable(DataError):
    """The catalog or a file server cannot be reached (offline, refused, 5xx after retries)."""


def _missing(what: str) -> UsageError:
    return UsageError(
        f"barrier fetch needs {what}, which is not installed: pip install 'geo-barrier[fetch]'"
    )


def session():
    """A requests session retrying errors, timeouts and 5xx with exponential back-off.

    Returns
    -------
    requests.Session
    """
    try:
        import requests
        from requests.adapters import HTTPAdapter
    except ImportError:
        raise _missing("requests") from None
    s = requests.Session()
    s.mount("http://", HTTPAdapter(max_retries=_retry()))
    s.mount("https://", HTTPAdapter(max_retries=_retry()))
    s.headers["User-Agent"] = "geo-barrier (barrier fetch)"
    return s


def _retry():
    from urllib3.util.retry import Retry

    return Retry(
        total=ATTEMPTS - 1,
        backoff_factor=BACKOFF,
        status_forcelist=_RETRY_STATUS,
        allowed_methods=None,  # POST /search is safe to repeat
        raise_on_status=False,
    )


def public_url(url: str) -> str:
    """``url`` without its query and fragment (signatures, tokens), for provenance.

    Parameters
    ----------
    url : str

    Returns
    -------
    str
    """
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _reason(exc: BaseException) -> str:
    """A short reason for a failed request (the whole urllib3 chain is too long for a line).

    Read from the text too: pystac-client wraps the requests error in its own class.
    """
    text = str(exc)
    if any(k in text for k in ("NameResolution", "not known", "name resolution")):
        return "host name not resolved (offline, or no DNS)"
    if "refused" in text.lower():
        return "connection refused"
    if "timed out" in text.lower() or "Timeout" in text:
        return "timed out"
    if "IncompleteRead" in text or isinstance(exc, _Short):
        return f"the download stopped short of its announced size {ATTEMPTS} times"
    if "too many 5" in text:
        return f"the server kept failing after {ATTEMPTS} attempts"
    reason = text.splitlines()[0] if text else type(exc).__name__
    return reason if len(reason) <= 160 else reason[:157] + "…"


def _unreachable(url: str, exc: BaseException, verb: str = "reach") -> Unreachable:
    return Unreachable(
        f"cannot {verb} {public_url(url)}: {_reason(exc)}; check the network or use --from DIR "
        "with files prepared elsewhere"
    )


def _not_stac(catalog: str, reason: str) -> DataError:
    return DataError(
        f"--catalog {public_url(catalog)} is not a STAC API ({reason}); give the landing page "
        "of a STAC API (e.g. https://planetarycomputer.microsoft.com/api/stac/v1)"
    )


def get(http, url: str, **kwargs):
    """GET (or POST with ``json=``) ``url``, raising :class:`Unreachable` on any failure.

    Parameters
    ----------
    http : requests.Session
        From :func:`session`.
    url : str
    **kwargs
        Passed to :meth:`requests.Session.request` (``json``, ``stream`` …).

    Returns
    -------
    requests.Response
        A response with status < 400.
    """
    import requests

    method = "POST" if "json" in kwargs else "GET"
    try:
        response = http.request(method, url, timeout=TIMEOUT, **kwargs)
    except requests.RequestException as exc:
        raise _unreachable(url, exc) from None
    if response.status_code >= 400:
        raise _unreachable(url, RuntimeError(f"HTTP {response.status_code} {response.reason}"))
    return response


def download(http, url: str, dest: Path, *, expected: str | None = None) -> str:
    """Download ``url`` to ``dest`` (temporary name, then renamed) and return its SHA-256.

    Parameters
    ----------
    http : requests.Session
        From :func:`session`.
    url : str
        File URL (may carry a signature).
    dest : Path
        Where the complete, checked file goes.
    expected : str, optional
        ``"md5:<hex>"`` or ``"sha256:<hex>"``: the published checksum.

    Returns
    -------
    str
        SHA-256 of the file, hex.

    Raises
    ------
    Unreachable
        The server fails or stops short after :data:`ATTEMPTS` attempts.
    geo.errors.DataError
        The file does not match ``expected`` (the message names the file and both sums).
    geo.errors.OutputError
        The file cannot be written (disk full, permission denied).
    """
    from geo.outputs import atomic_path

    # the toolkit's one atomic writer: a complete, checked file or nothing, and an existing
    # ``dest`` untouched on failure (the temporary file is removed whatever happens)
    with atomic_path(dest) as part:
        digests = _attempts(http, url, part)
        if expected:
            algorithm, _, value = expected.partition(":")
            if digests[algorithm] != value.lower():
                raise DataError(
                    f"{dest.name} from {public_url(url)} does not match its published checksum "
                    f"({algorithm} {digests[algorithm]} ≠ {value.lower()}); it was not kept: "
                    "try again later or tell the data's publisher"
                )
    return digests["sha256"]


def _attempts(http, url: str, part: Path) -> dict[str, str]:
    """Stream ``url`` into ``part`` (rewritten from the start at each attempt); its digests.

    Network errors and short downloads are retried (:data:`ATTEMPTS` in all); they never leave
    this function as :class:`OSError`, which :func:`geo.outputs.atomic_path` would report as an
    output error.
    """
    import requests

    for attempt in range(ATTEMPTS - 1):
        try:
            return _stream(http, url, part)
        except (requests.RequestException, _Short):
            time.sleep(BACKOFF * 2**attempt)
    try:
        return _stream(http, url, part)
    except (requests.RequestException, _Short) as exc:
        raise _unreachable(url, exc, "download") from None


class _Short(OSError):
    """A response that stopped before its announced length."""


def _stream(http, url: str, part: Path) -> dict[str, str]:
    with get(http, url, stream=True) as response:
        announced = response.headers.get("Content-Length")
        sums = {"md5": hashlib.md5(usedforsecurity=False), "sha256": hashlib.sha256()}
        size = 0
        with open(part, "wb") as out:
            for chunk in response.iter_content(_CHUNK):
                out.write(chunk)
                size += len(chunk)
                for h in sums.values():
                    h.update(chunk)
    if announced is not None and size != int(announced):
        raise _Short(f"the download stopped at {size} of {announced} bytes")
    return {k: h.hexdigest() for k, h in sums.items()}


def checksum_list(http, url: str) -> dict[str, tuple[str, str]]:
    """The files of a checksum list: ``{name: (url, "md5:…"|"sha256:…")}``.

    Parameters
    ----------
    http : requests.Session
    url : str
        A Zenodo record's API URL (JSON with ``files``: ``key``, ``checksum``, ``links.self``)
        or a text file of ``<hex>  <name>`` lines (``sha256sum``/``md5sum`` output; names
        relative to the list's URL).

    Returns
    -------
    dict

    Raises
    ------
    Unreachable
        The list cannot be fetched.
    geo.errors.DataError
        The list is neither form.
    """
    response = get(http, url)
    text = response.text
    if text.lstrip().startswith("{"):
        try:
            files = response.json()["files"]
            return {f["key"]: (f["links"]["self"], _algorithm(f["checksum"])) for f in files}
        except (ValueError, KeyError, TypeError):
            raise DataError(
                f"{public_url(url)} is JSON but not a Zenodo record (files: key, checksum, "
                "links); give a record's API URL or a SHA256SUMS file"
            ) from None
    found = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) == 2 and len(fields[0]) in (32, 64):
            kind = "md5" if len(fields[0]) == 32 else "sha256"
            name = fields[1].lstrip("*")
            found[name] = (urljoin(url, name), f"{kind}:{fields[0].lower()}")
    if not found:
        raise DataError(
            f"{public_url(url)} lists no file with a checksum (lines '<sha256>  <name>' "
            "expected); check --catalog"
        )
    return found


def _algorithm(checksum: str) -> str:
    kind, _, value = checksum.partition(":")
    return f"{kind.lower()}:{value.lower()}" if value else f"md5:{kind.lower()}"


def search_items(catalog: str, collection: str, bbox, start: str, end: str) -> list:
    """The items of ``collection`` intersecting ``bbox`` and dated ``start``–``end``.

    Parameters
    ----------
    catalog : str
        STAC API landing page URL.
    collection : str
    bbox : tuple of float
        West, south, east, north, degrees (EPSG:4326).
    start, end : str
        ISO dates, inclusive.

    Returns
    -------
    list of pystac.Item
        In date order.

    Raises
    ------
    Unreachable
        The catalog cannot be reached or answers with a server error.
    geo.errors.DataError
        The catalog answers, but not as a STAC API.
    """
    try:
        import pystac
        from pystac_client import Client
        from pystac_client.errors import ClientTypeError
        from pystac_client.exceptions import APIError
    except ImportError:
        raise _missing("pystac-client") from None
    import requests
    from pystac_client.stac_api_io import StacApiIO

    io = StacApiIO(max_retries=_retry(), timeout=TIMEOUT)
    try:
        client = Client.open(catalog, stac_io=io)
        search = client.search(
            collections=[collection], bbox=list(bbox), datetime=f"{start}/{end}", limit=100
        )
        items = list(search.items())
    except APIError as exc:
        status = getattr(exc, "status_code", None)
        if status is None:  # pystac-client wraps connection and decoding errors alike
            if "decode" in str(exc):
                raise _not_stac(catalog, "its answer is not text") from None
            raise _unreachable(catalog, exc) from None
        if status < 500 and status != 429:
            raise _not_stac(catalog, f"it answered HTTP {status}") from None
        raise _unreachable(catalog, RuntimeError(f"HTTP {status}")) from None
    except requests.RequestException as exc:
        raise _unreachable(catalog, exc) from None
    except (ClientTypeError, pystac.STACError, ValueError, KeyError, TypeError) as exc:
        # reached, but the answer is not a STAC API (an HTML page, a file, other JSON)
        reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise _not_stac(catalog, reason) from None
    return sorted(
        items, key=lambda i: (str(i.datetime or i.properties.get("start_datetime")), i.id)
    )


def signer(http, catalog: str):
    """A function signing asset URLs for ``catalog`` (Planetary Computer SAS tokens), or identity.

    Planetary Computer's blobs (``*.blob.core.windows.net``) need a short-lived SAS token, asked
    from its token endpoint once per storage account and container.

    Parameters
    ----------
    http : requests.Session
    catalog : str
        The STAC API URL.

    Returns
    -------
    callable
        ``sign(url) -> url``.
    """
    host = urlsplit(catalog).netloc
    if not host.endswith("planetarycomputer.microsoft.com"):
        return lambda url: url
    tokens: dict[tuple[str, str], str] = {}

    def sign(url: str) -> str:
        parts = urlsplit(url)
        if not parts.netloc.endswith(".blob.core.windows.net") or "sig=" in parts.query:
            return url
        account = parts.netloc.split(".")[0]
        container = parts.path.lstrip("/").split("/")[0]
        if (account, container) not in tokens:
            endpoint = f"https://{host}/api/sas/v1/token/{account}/{container}"
            tokens[account, container] = get(http, endpoint).json()["token"]
        return f"{public_url(url)}?{tokens[account, container]}"

    return sign
