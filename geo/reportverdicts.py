"""The region-wide verdict of the reports in words.

The rule is :func:`geo.indicators.verdict`, applied once here (:func:`verdict_code`) for
``report.html``, ``report.docx`` and ``report.pdf``.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["VERDICT_WORDS", "verdict", "verdict_code"]

#: Words of the region-wide verdict codes (:data:`geo.indicators.VERDICTS`) in ``report.html``.
VERDICT_WORDS = {
    "met": "met 达到",
    "not_met": "not met 未达到",
    "uncertain": "uncertain 不确定",
    "no_data": "not computed 未计算 (needs user layers)",
}


def verdict_code(value, indicator, spread: tuple[float, float] | None) -> str | None:
    """The verdict code of :func:`geo.indicators.verdict` for a value and its method range.

    The one rule of every report (HTML, Word, PDF): the presentation words it, never decides it.

    Parameters
    ----------
    value : float or None
        The proxy value (unit of the indicator); None or NaN gives ``"no_data"``.
    indicator : geo.indicators.Indicator
        With a target and a direction (otherwise None is returned).
    spread : (float, float), optional
        Lowest and highest value over the method variants; None (or NaN ends) when the
        indicator was not varied: the value alone decides.

    Returns
    -------
    str or None
        ``"met"``, ``"not_met"``, ``"uncertain"`` or ``"no_data"``.
    """
    from geo.indicators import verdict as rule

    if value is None or pd.isna(value):
        return "no_data"
    value = float(value)
    low, high = spread if spread is not None else (value, value)
    low, high = (value if pd.isna(v) else float(v) for v in (low, high))
    return rule(value, indicator, low, high)


def verdict(value, indicator, spread: tuple[float, float] | None) -> tuple[str, str]:
    """Met / not met for a proxy value, with a confidence from the method sensitivity.

    Parameters
    ----------
    value : float
        The proxy value.
    indicator : geo.indicators.Indicator
        With a target and a direction.
    spread : (float, float), optional
        Lowest and highest value of the same indicator over the method variants
        (the method-sensitivity table); None when the indicator was not varied.

    Returns
    -------
    (str, str)
        The verdict (``"met 达到"``, ``"not met 未达到"``, ``"uncertain 不确定"``) and the
        confidence in words. The rule is :func:`geo.indicators.verdict` (via
        :func:`verdict_code`): a method range that straddles the target makes the verdict
        uncertain, as one reasonable method says met and another not met.
    """
    code = verdict_code(value, indicator, spread)
    said = VERDICT_WORDS.get(code, "")
    if code == "no_data":
        return said, ""
    if spread is None:
        return said, "not tested against method choices 未做方法敏感性检验"
    low, high = spread
    if code == "uncertain":
        return (
            said,
            f"method variants give {low:.1f}–{high:.1f} %, on both sides of the target "
            f"方法变体结果跨越目标值",
        )
    return (
        said,
        f"robust to method choices 方法稳健: all variants {low:.1f}–{high:.1f} % "
        "(still a remote-sensing proxy 仍为遥感估算)",
    )
