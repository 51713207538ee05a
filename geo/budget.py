"""A stated memory budget: refuse work that would not fit, with a clear message.

Commands stream rasters window by window, so their memory grows with the window and
with the zone boundaries, not with the raster. What cannot be streamed (a coverage of
very fine zones, a whole-array step) is estimated first and checked here with
:func:`check_budget`: beyond the budget the input is refused (exit 2) instead of
dying with a ``MemoryError`` half-way.

The budget is ``GEO_BARRIER_MEMORY`` when set (bytes, or a size such as ``512M``,
``8G``), else three quarters of the memory available when asked.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from geo.errors import DataError, UsageError

__all__ = ["ENV_VAR", "check_budget", "format_bytes", "memory_budget", "parse_size"]

ENV_VAR = "GEO_BARRIER_MEMORY"
# Share of the available memory a command may plan to use by default.
_DEFAULT_SHARE = 0.75
_UNITS = {"": 1, "B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_size(text: str) -> int:
    """Bytes of a size such as ``"2G"``, ``"512M"``, ``"1.5GB"`` or ``"1000000"``.

    Raises
    ------
    UsageError
        If the text is not a positive size.
    """
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([KMGT]?)(?:i?B)?\s*", str(text), re.IGNORECASE)
    if not m or float(m.group(1)) <= 0:
        raise UsageError(
            f"{ENV_VAR}={text!r} is not a memory size; give bytes or a size such as 512M or 8G"
        )
    return int(float(m.group(1)) * _UNITS[m.group(2).upper()])


def _available_bytes() -> int:
    """Memory available to new allocations now (Linux ``MemAvailable``), else physical RAM."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 8 << 30


def memory_budget() -> int:
    """The memory budget in bytes: ``GEO_BARRIER_MEMORY``, else ¾ of the available memory."""
    text = os.environ.get(ENV_VAR, "").strip()
    if text:
        return parse_size(text)
    return int(_available_bytes() * _DEFAULT_SHARE)


def format_bytes(n: float) -> str:
    """``n`` bytes as a short size (``1.5 GB``)."""
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def check_budget(path: str | Path | None, nbytes: float, what: str) -> None:
    """Refuse a step whose estimated memory exceeds the budget.

    Parameters
    ----------
    path : str or Path, optional
        The input that drives the cost (named in the message).
    nbytes : float
        Estimated peak memory of the step, bytes.
    what : str
        The step, for the message (``"the zone coverage"``, ``"the transition matrix"``).

    Raises
    ------
    DataError
        If ``nbytes`` exceeds :func:`memory_budget`.
    """
    budget = memory_budget()
    if nbytes <= budget:
        return
    source = f" of {path}" if path else ""
    raise DataError(
        f"{what}{source} would need about {format_bytes(nbytes)} of memory, more than the "
        f"budget of {format_bytes(budget)}; use a coarser raster (gdalwarp -tr) or fewer, "
        f"simpler zones, or raise the budget with {ENV_VAR} (e.g. {ENV_VAR}=16G) on a machine "
        "with that much memory"
    )
