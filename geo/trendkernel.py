"""Numba kernels of :mod:`geo.trends`: Theil–Sen slope and Mann–Kendall test per pixel.

Imported by :func:`geo.trends.mann_kendall` on first use (never by ``import geo``); the
functions compile on their first call and are cached on disk (``cache=True``), so a new
process loads them instead of compiling again.

Layout and method (why it is fast and still exact):

- Pixels are processed :data:`LANES` at a time, the values of a lane group stored year by
  year (``x[year, lane]``), so every loop over the lanes is a fixed-length loop that LLVM
  turns into SIMD instructions: the pair loop computes, for each pair of years ``i < j``, the
  sign of ``x_j − x_i`` (S), whether they are equal (ties) and the slope
  ``(x_j − x_i) / (t_j − t_i)`` of every lane at once. Gaps (NaN) give a NaN difference:
  no sign, no tie, and a slope that is left out of the median; so each pixel keeps its own
  valid years and their real spacing, as :func:`scipy.stats.theilslopes` on its valid years.
- The tie correction ``Σ t(t−1)(2t+5)`` over groups of equal values is summed as
  ``Σ 6a(a+2)`` over the values, ``a`` being how many later years hold the same value (a
  group of ``t`` holds ``a = t−1, …, 0``, and ``Σ_{a<t} 6a(a+2) = t(t−1)(2t+5)``), so it
  needs only a count per year and no sort.
- The Sen slope is the exact median of the pairwise slopes, found without sorting them:
  slopes are mapped to integer keys of the same order (the float's bits, negative ones
  flipped); a *pass* counts, for every lane at once, the keys ≤ a pivot and keeps the two
  largest keys ≤ it and the two smallest above it. A pass whose count falls within two ranks
  of the median ranks gives the median's values directly; otherwise it narrows the lane's
  bracket (lo, hi] of keys, and the next pivot is interpolated in it. The first pivot is the
  least-squares slope, the second is moved by the slope's expected spread per rank (from
  the residual scatter), so most pixels end after one to three passes. Lanes left with a
  few slopes in their bracket finish alone: those slopes are gathered and sorted. The
  median of an even count is ``0.5 · (lower + upper)``, as :func:`numpy.median`.
"""

from __future__ import annotations

import math

import numba
import numpy as np

#: Pixels processed together (four AVX-512 / eight AVX2 vectors of float64).
LANES = 32
#: Pixels per parallel task (a multiple of LANES).
CHUNK = 2048
#: A lane finishes alone (gather and sort) when its bracket holds at most this many slopes.
GATHER = 64
_MASK = np.int64(0x7FFFFFFFFFFFFFFF)
_KMIN = np.int64(-(2**63))
_KMAX = np.int64(2**63 - 1)

# error_model="numpy": a float division never raises, so loops with one vectorise
_jit = numba.njit(nogil=True, cache=True, error_model="numpy")


@_jit
def _pairs(x, years, keys, s, ties, lo_key, hi_key):
    """S, tie sums, slope keys (K, LANES) and each lane's smallest and largest valid key."""
    steps = x.shape[0]
    after = np.empty(LANES, np.int64)
    slope = np.empty(LANES)
    bits = slope.view(np.int64)
    for q in range(LANES):
        s[q] = 0
        ties[q] = 0
        lo_key[q] = _KMAX
        hi_key[q] = _KMIN
    k = 0
    for i in range(steps - 1):
        after[:] = 0
        for j in range(i + 1, steps):
            dt = years[j] - years[i]
            for q in range(LANES):
                d = x[j, q] - x[i, q]
                s[q] += np.int64(d > 0) - np.int64(d < 0)  # NaN (a gap) counts nothing
                after[q] += np.int64(d == 0)
                slope[q] = d / dt
            for q in range(LANES):
                b = bits[q]
                key = b ^ ((b >> 63) & _MASK)  # same order as the floats
                valid = slope[q] == slope[q]
                key = key if valid else _KMAX  # gaps sort last and are never counted
                keys[k, q] = key
                lo_key[q] = min(lo_key[q], key)
                hi_key[q] = max(hi_key[q], key if valid else _KMIN)
            k += 1
        for q in range(LANES):
            ties[q] += 6 * after[q] * (after[q] + 2)


@_jit
def _first_guess(x, years, n, guess, step):
    """Least-squares slope of each lane's valid years, and the expected slope per rank.

    Near their median, the pairwise slopes of a series with residual scatter σ have a
    density of about ``Σ_pairs Δt / (σ√(4π))`` per unit of slope; its inverse moves the
    second pivot by the right number of ranks.
    """
    steps = x.shape[0]
    for q in range(LANES):
        c = 0
        mt = 0.0
        my = 0.0
        for i in range(steps):
            v = x[i, q]
            if v == v:
                c += 1
                mt += years[i]
                my += v
        n[q] = c
        guess[q] = 0.0
        step[q] = 0.0
        if c < 3:
            continue
        mt /= c
        my /= c
        stt = 0.0
        sty = 0.0
        syy = 0.0
        sdt = 0.0
        r = 0
        for i in range(steps):
            v = x[i, q]
            if v == v:
                a = years[i] - mt
                b = v - my
                stt += a * a
                sty += a * b
                syy += b * b
                sdt += (2 * r - c + 1) * years[i]  # Σ over pairs of t_j − t_i
                r += 1
        guess[q] = sty / stt
        sigma = math.sqrt(max(syy - guess[q] * sty, 0.0) / max(c - 2, 1))
        if sdt > 0:
            step[q] = sigma * math.sqrt(4.0 * math.pi) / sdt


@_jit
def _count_pass(keys, pairs, pivot, count, b1, b2, a1, a2):
    """Per lane: keys ≤ pivot, the two largest of them and the two smallest above."""
    for q in range(LANES):
        count[q] = 0
        b1[q] = _KMIN
        b2[q] = _KMIN
        a1[q] = _KMAX
        a2[q] = _KMAX
    for k in range(pairs):
        for q in range(LANES):
            v = keys[k, q]
            below = v <= pivot[q]
            count[q] += below
            vb = v if below else _KMIN
            va = _KMAX if below else v
            b2[q] = max(b2[q], min(b1[q], vb))
            b1[q] = max(b1[q], vb)
            a2[q] = min(a2[q], max(a1[q], va))
            a1[q] = min(a1[q], va)


@_jit
def _to_float(key, cell):
    cell[0] = key ^ ((key >> 63) & _MASK)
    return cell.view(np.float64)[0]


@_jit
def _to_key(value, cell):
    cell.view(np.float64)[0] = value
    b = cell[0]
    return b ^ ((b >> 63) & _MASK)


@_jit
def _rank_value(r, c, b1, b2, a1, a2):
    # the key of rank r (0-based) from a pass that counted c keys ≤ its pivot
    if r == c - 1:
        return b1
    if r == c - 2:
        return b2
    if r == c:
        return a1
    return a2


@_jit
def _gather_median(keys, pairs, q, lo, hi, c_lo, r1, r2, buf, cell):
    """Median of lane q from the keys in its bracket (lo, hi]: gathered, then sorted."""
    g = 0
    for k in range(pairs):
        v = keys[k, q]
        buf[g] = v
        g += (v > lo) & (v <= hi)
    for i in range(1, g):  # insertion sort of a few keys
        v = buf[i]
        j = i - 1
        while j >= 0 and buf[j] > v:
            buf[j + 1] = buf[j]
            j -= 1
        buf[j + 1] = v
    upper = _to_float(buf[r2 - c_lo], cell)
    if r1 == r2:
        return upper
    return 0.5 * (_to_float(buf[r1 - c_lo], cell) + upper)


@_jit
def _medians(keys, pairs, n, guess, step, lo_key, hi_key, out, buf):
    """Exact median of each lane's valid slopes into ``out`` (NaN for fewer than 3 years)."""
    cell = np.empty(1, np.int64)
    r1 = np.empty(LANES, np.int64)
    r2 = np.empty(LANES, np.int64)
    lo = np.full(LANES, _KMIN)  # bracket (lo, hi] of pivot keys holding ranks r1..r2
    hi = np.empty(LANES, np.int64)
    c_lo = np.zeros(LANES, np.int64)  # keys ≤ lo
    c_hi = np.empty(LANES, np.int64)  # keys ≤ hi
    first = lo_key.copy()  # smallest key > lo
    last = hi_key.copy()  # largest key ≤ hi
    pivot = np.zeros(LANES, np.int64)
    value = np.empty(LANES)
    prev_value = np.empty(LANES)
    prev_count = np.zeros(LANES, np.int64)
    count = np.empty(LANES, np.int64)
    b1 = np.empty(LANES, np.int64)
    b2 = np.empty(LANES, np.int64)
    a1 = np.empty(LANES, np.int64)
    a2 = np.empty(LANES, np.int64)
    done = np.zeros(LANES, np.bool_)
    for q in range(LANES):
        m = n[q] * (n[q] - 1) // 2
        r1[q] = (m - 1) // 2
        r2[q] = m // 2
        hi[q] = hi_key[q]
        c_hi[q] = m
        if n[q] < 3:
            done[q] = True
            out[q] = np.nan
            continue
        fa, fb = _to_float(first[q], cell), _to_float(last[q], cell)
        v = guess[q] if fa <= guess[q] < fb else fa + 0.5 * (fb - fa)
        value[q] = v
        pivot[q] = min(max(_to_key(v, cell), first[q]), last[q])
    for it in range(200):
        active = 0
        wide = 0
        for q in range(LANES):
            if not done[q] and first[q] == last[q]:  # the bracket holds one value
                out[q] = _to_float(last[q], cell)
                done[q] = True
            if not done[q]:
                active += 1
                wide += c_hi[q] - c_lo[q] > GATHER
        if active == 0:
            return
        if it >= 2 and 4 * active <= LANES and wide == 0:
            for q in range(LANES):  # a few lanes left: each finishes alone
                if not done[q]:
                    out[q] = _gather_median(keys, pairs, q, lo[q], hi[q], c_lo[q], r1[q], r2[q],
                                            buf, cell)  # fmt: skip
                    done[q] = True
            return
        _count_pass(keys, pairs, pivot, count, b1, b2, a1, a2)
        for q in range(LANES):
            if done[q]:
                continue
            c = count[q]
            if c - 2 <= r1[q] and r2[q] <= c + 1:  # both median ranks seen by this pass
                upper = _to_float(_rank_value(r2[q], c, b1[q], b2[q], a1[q], a2[q]), cell)
                if r1[q] == r2[q]:
                    out[q] = upper
                else:
                    lower = _to_float(_rank_value(r1[q], c, b1[q], b2[q], a1[q], a2[q]), cell)
                    out[q] = 0.5 * (lower + upper)
                done[q] = True
                continue
            if c <= r1[q]:
                lo[q], c_lo[q], first[q] = pivot[q], c, a1[q]
            else:
                hi[q], c_hi[q], last[q] = pivot[q], c, b1[q]
            if first[q] == last[q]:
                continue
            fa, fb = _to_float(first[q], cell), _to_float(last[q], cell)
            target = 0.5 * (r1[q] + r2[q] + 1)
            if it == 0 and step[q] > 0:  # from the least-squares slope, by the spread
                v = value[q] + (target - c) * step[q]
            elif it > 0 and c != prev_count[q] and value[q] != prev_value[q]:  # secant
                v = value[q] + (target - c) * (value[q] - prev_value[q]) / (c - prev_count[q])
            else:
                v = fa + (fb - fa) * ((target - c_lo[q]) / (c_hi[q] - c_lo[q]))
            if not (fa <= v < fb):
                v = fa + 0.5 * (fb - fa)
            prev_value[q], prev_count[q] = value[q], c
            value[q] = v
            key = _to_key(v, cell)
            pivot[q] = key if first[q] <= key < last[q] else first[q]
    for q in range(LANES):  # not reached in practice: finish any lane alone
        if not done[q]:
            out[q] = _gather_median(keys, pairs, q, lo[q], hi[q], c_lo[q], r1[q], r2[q], buf, cell)


@_jit
def _average_ranks(x, n, order, ranks):
    order[:n] = np.argsort(x[:n], kind="mergesort")
    i = 0
    while i < n:
        j = i
        while j + 1 < n and x[order[j + 1]] == x[order[i]]:
            j += 1
        r = 0.5 * (i + j) + 1.0
        for k in range(i, j + 1):
            ranks[order[k]] = r
        i = j + 1


@_jit
def _hamed_rao_factor(y, n, slope, band, work, order, ranks):
    # ranks of the series detrended by the Sen slope (pymannkendall: x - (1..n)·slope)
    for i in range(n):
        work[i] = y[i] - (i + 1) * slope
    _average_ranks(work, n, order, ranks)
    mean = 0.0
    for i in range(n):
        mean += ranks[i]
    mean /= n
    c0 = 0.0
    for i in range(n):
        c0 += (ranks[i] - mean) ** 2
    bound = band / math.sqrt(n)
    total = 0.0
    for lag in range(1, n):
        c = 0.0
        for i in range(n - lag):
            c += (ranks[i] - mean) * (ranks[i + lag] - mean)
        rho = c / c0 if c0 > 0 else 0.0
        if rho > bound or rho < -bound:
            total += (n - lag) * (n - lag - 1) * (n - lag - 2) * rho
    return 1.0 + 2.0 / (n * (n - 1) * (n - 2)) * total


@_jit
def _finish(x, q, n, s, ties, slope, hamed_rao, band, y, order, ranks, work, row):
    """Mann–Kendall variance, Z and p of lane q into ``row`` (slope, p, z, s)."""
    var = (n * (n - 1) * (2 * n + 5) - ties) / 18.0
    if hamed_rao:
        c = 0
        for i in range(x.shape[0]):
            v = x[i, q]
            if v == v:
                y[c] = v
                c += 1
        var *= _hamed_rao_factor(y, n, slope, band, work, order, ranks)
    if s > 0:
        z = (s - 1.0) / np.sqrt(var)
    elif s < 0:
        z = (s + 1.0) / np.sqrt(var)
    else:
        z = 0.0
    row[0] = slope
    row[1] = math.erfc(abs(z) / math.sqrt(2.0)) if np.isfinite(z) else np.nan
    row[2] = z
    row[3] = s


@numba.njit(parallel=True, nogil=True, cache=True, error_model="numpy")
def trend(flat, years, min_n, hamed_rao, band, out, count):
    """Slope, p, Z and S (``out``, pixels × 4) and valid years (``count``) of every pixel.

    Parameters
    ----------
    flat : numpy.ndarray
        Values, shape (years, pixels), float32 or float64, NaN in gaps.
    years : numpy.ndarray
        The year of each row (float64, increasing); slopes are per unit of it (per year).
    min_n : int
        Fewest valid years for a trend (at least 3); pixels with fewer get NaN in ``out``.
    hamed_rao : bool
        Multiply the Mann–Kendall variance by the Hamed–Rao autocorrelation factor.
    band : float
        Normal quantile bounding negligible autocorrelations (Hamed–Rao only).
    out : numpy.ndarray
        Filled: float64, shape (pixels, 4): Sen slope (layer units per year), two-sided p,
        Z and S.
    count : numpy.ndarray
        Filled: valid years of each pixel (int16, shape (pixels,)).
    """
    steps, pixels = flat.shape
    pairs = max(steps * (steps - 1) // 2, 1)
    for c in numba.prange((pixels + CHUNK - 1) // CHUNK):
        x = np.empty((steps, LANES))
        keys = np.empty((pairs, LANES), np.int64)
        s = np.empty(LANES, np.int64)
        ties = np.empty(LANES, np.int64)
        lo_key = np.empty(LANES, np.int64)
        hi_key = np.empty(LANES, np.int64)
        n = np.empty(LANES, np.int64)
        used = np.empty(LANES, np.int64)
        guess = np.empty(LANES)
        step = np.empty(LANES)
        slope = np.empty(LANES)
        buf = np.empty(pairs, np.int64)
        y = np.empty(steps)
        work = np.empty(steps)
        order = np.empty(steps, np.int64)
        ranks = np.empty(steps)
        end = min(pixels, (c + 1) * CHUNK)
        for p0 in range(c * CHUNK, end, LANES):
            m = min(LANES, end - p0)
            for k in range(steps):
                for q in range(LANES):
                    x[k, q] = flat[k, p0 + q] if q < m else np.nan
            _first_guess(x, years, n, guess, step)
            for q in range(LANES):
                used[q] = n[q] if n[q] >= min_n else 0  # too few years: no median needed
            _pairs(x, years, keys, s, ties, lo_key, hi_key)
            _medians(keys, pairs, used, guess, step, lo_key, hi_key, slope, buf)
            for q in range(m):
                count[p0 + q] = n[q]
                if used[q] == 0:
                    out[p0 + q, :] = np.nan
                else:
                    _finish(x, q, n[q], s[q], ties[q], slope[q], hamed_rao, band, y, order,
                            ranks, work, out[p0 + q])  # fmt: skip
