"""Numba kernels of :mod:`geo.trends`: Theil–Sen slope and Mann–Kendall test per pixel.

Imported by :func:`geo.trends.mann_kendall` on first use (never by ``import geo``); the
functions compile on their first call and are cached on disk (``cache=True``), so a new
process loads them instead of compiling again.

Layout and method (why it is fast and still exact):

- Each parallel task takes :data:`CHUNK` pixels; a block of :data:`LANES` pixels is read row
  by row from the stack (contiguous loads) and stored pixel by pixel, so that every loop
  below runs over contiguous memory that LLVM turns into SIMD instructions.
- The pair loop takes each year ``i`` and its later years ``j``: the sign of ``x_j − x_i``
  (S), whether they are equal (ties) and the slope ``(x_j − x_i) / (t_j − t_i)``. Gaps (NaN)
  give a NaN difference: no sign, no tie, and a slope that is left out of the median; so each
  pixel keeps its own valid years and their real spacing, as
  :func:`scipy.stats.theilslopes` on its valid years.
- The tie correction ``Σ t(t−1)(2t+5)`` over groups of equal values is summed as
  ``Σ 6a(a+2)`` over the values, ``a`` being how many later years hold the same value (a
  group of ``t`` holds ``a = t−1, …, 0``, and ``Σ_{a<t} 6a(a+2) = t(t−1)(2t+5)``), so it
  needs only a count per year and no sort.
- The Sen slope is the exact median of the pairwise slopes, found without sorting them:
  slopes are mapped to integer keys of the same order (the float's bits, negative ones
  flipped); a *pass* over a pixel's keys counts the keys ≤ a pivot and finds the largest of
  them and the smallest key above (three independent reductions, all in vector registers):
  so a pass sees the values of ranks ``c − 1`` and ``c``, ``c`` being its count. A pixel
  remembers the median ranks it has seen and ends when it has seen both; otherwise the pass
  narrows its bracket (lo, hi] of keys. The first pivot is the least-squares slope, the
  second is moved by the slope's expected spread per rank (from the residual scatter), the
  next ones are interpolated between the known ranks at the bracket's ends (or by the
  secant while one end is still the extreme slope), always inside the bracket. About three
  passes a pixel on noisy series (25 years: 300 slopes); a pixel that has not ended after 200
  passes (not seen in practice) gathers and sorts the keys left in its bracket. The median of
  an even count is ``0.5 · (lower + upper)``, as :func:`numpy.median`.
"""

from __future__ import annotations

import math

import numba
import numpy as np

#: Pixels read from the stack together (32 float32 values: two cache lines a year).
LANES = 32
#: Pixels per parallel task (a multiple of LANES).
CHUNK = 2048
_MASK = np.int64(0x7FFFFFFFFFFFFFFF)
_KMIN = np.int64(-(2**63))
_KMAX = np.int64(2**63 - 1)

# error_model="numpy": a float division never raises, so loops with one vectorise
_jit = numba.njit(nogil=True, cache=True, error_model="numpy")


@_jit
def _pairs(row, years, slopes, keys, sums, pivot):
    """S, the tie sum and the slope keys of one pixel's years (``row``, NaN in gaps).

    Fills ``slopes`` (float64) and ``keys`` (int64, the same order as the slopes, gaps as the
    largest key) with a slot per pair of years ``i < j``, and ``sums`` with S, the tie sum and
    the smallest and largest valid key. Each loop runs over contiguous slices (the later years
    of one year, then the slopes), so LLVM turns it into SIMD instructions. The median's
    first pass (:func:`_pass` at the key ``pivot``) is made on the way: ``sums[4:7]``.
    """
    steps = row.shape[0]
    s = 0
    ties = 0
    k = 0
    for i in range(steps - 1):
        xi = row[i]
        ti = years[i]
        later = row[i + 1 :]
        dt = years[i + 1 :]
        out = slopes[k : k + steps - i - 1]
        after = 0
        for j in range(steps - i - 1):
            d = later[j] - xi
            s += np.int64(d > 0) - np.int64(d < 0)  # NaN (a gap) counts nothing
            after += np.int64(d == 0)
            out[j] = d / (dt[j] - ti)
        k += steps - i - 1
        ties += 6 * after * (after + 2)
    bits = slopes.view(np.int64)
    lo_key = _KMAX
    hi_key = _KMIN
    count = 0  # the median's first pass, at ``pivot``, on the way
    below = _KMIN
    above = _KMAX
    for k in range(slopes.shape[0]):
        valid = slopes[k] == slopes[k]
        b = bits[k]
        key = b ^ ((b >> 63) & _MASK)  # same order as the floats
        key = key if valid else _KMAX  # gaps sort last and are never counted
        keys[k] = key
        lo_key = min(lo_key, key)
        hi_key = max(hi_key, key if valid else _KMIN)
        count += key <= pivot
        below = max(below, key if key <= pivot else _KMIN)
        above = min(above, key if key > pivot else _KMAX)
    sums[0] = s
    sums[1] = ties
    sums[2] = lo_key
    sums[3] = hi_key
    sums[4] = count
    sums[5] = below
    sums[6] = above


@_jit
def _first_guess(row, years, guess):
    """Valid years of one pixel; ``guess`` gets its least-squares slope and slope per rank.

    Near their median, the pairwise slopes of a series with residual scatter σ have a
    density of about ``Σ_pairs Δt / (σ√(4π))`` per unit of slope; its inverse moves the
    second pivot by the right number of ranks.
    """
    steps = row.shape[0]
    c = 0
    mt = 0.0
    my = 0.0
    for i in range(steps):
        v = row[i]
        if v == v:
            c += 1
            mt += years[i]
            my += v
    guess[0] = 0.0
    guess[1] = 0.0
    if c < 3:
        return c
    mt /= c
    my /= c
    stt = 0.0
    sty = 0.0
    syy = 0.0
    sdt = 0.0
    r = 0
    for i in range(steps):
        v = row[i]
        if v == v:
            a = years[i] - mt
            b = v - my
            stt += a * a
            sty += a * b
            syy += b * b
            sdt += (2 * r - c + 1) * years[i]  # Σ over pairs of t_j − t_i
            r += 1
    guess[0] = sty / stt
    sigma = math.sqrt(max(syy - guess[0] * sty, 0.0) / max(c - 2, 1))
    if sdt > 0:
        guess[1] = sigma * math.sqrt(4.0 * math.pi) / sdt
    return c


@_jit
def _pass(row, pairs, pivot):
    """Keys ≤ pivot in one pixel's keys, the largest of them and the smallest key above.

    Three independent reductions over a contiguous row: LLVM keeps them in vector registers.
    """
    count = 0
    below = _KMIN
    above = _KMAX
    for k in range(pairs):
        v = row[k]
        count += v <= pivot
        below = max(below, v if v <= pivot else _KMIN)
        above = min(above, v if v > pivot else _KMAX)
    return count, below, above


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
def _gather_median(row, pairs, lo, hi, c_lo, r1, r2, buf, cell):
    """Median of one pixel from the keys in its bracket (lo, hi]: gathered, then sorted."""
    g = 0
    for k in range(pairs):
        v = row[k]
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
def _median(row, pairs, n, sums, step, buf, cell):
    """Exact median of one pixel's valid slope keys (``row``), NaN for fewer than 3 years.

    ``sums`` holds what :func:`_pairs` found: the smallest and largest valid key
    (``sums[2:4]``), and the first pass at the least-squares slope (``sums[4:8]``: count,
    below, above, pivot).
    """
    if n < 3:
        return np.nan
    m = n * (n - 1) // 2
    r1 = (m - 1) // 2
    r2 = m // 2
    lo, c_lo, first = _KMIN, 0, sums[2]  # bracket (lo, hi] holding ranks r1..r2
    hi, c_hi, last = sums[3], m, sums[3]
    pivot = sums[7]
    value = _to_float(pivot, cell)
    prev_value = value
    prev_count = 0
    target = 0.5 * (r1 + r2 + 1)
    v1 = v2 = 0.0  # the values of ranks r1 and r2, once a pass has seen them
    known1 = known2 = False
    for it in range(200):
        if first == last:  # the bracket holds one value
            return _to_float(last, cell)
        if it == 0:
            c, below, above = sums[4], sums[5], sums[6]
        else:
            c, below, above = _pass(row, pairs, pivot)
        # a pass sees ranks c − 1 (below) and c (above); the pixel remembers what it saw
        if c - 1 == r1 or c == r1:
            v1, known1 = _to_float(below if c - 1 == r1 else above, cell), True
        if c - 1 == r2 or c == r2:
            v2, known2 = _to_float(below if c - 1 == r2 else above, cell), True
        if known1 and known2:
            return v2 if r1 == r2 else 0.5 * (v1 + v2)
        if c <= r1:
            lo, c_lo, first = pivot, c, above
        else:
            hi, c_hi, last = pivot, c, below
        if first == last:
            continue
        fa, fb = _to_float(first, cell), _to_float(last, cell)
        if it == 0 and step > 0:  # from the least-squares slope, by the spread
            v = value + (target - c) * step
        elif c_lo > 0 and c_hi < m:  # between the ranks c_lo (first) and c_hi − 1 (last)
            v = fa + (fb - fa) * ((target - 0.5 - c_lo) / max(c_hi - 1 - c_lo, 1))
        elif c != prev_count and value != prev_value:  # secant
            v = value + (target - c) * (value - prev_value) / (c - prev_count)
        else:
            v = fa + (fb - fa) * ((target - c_lo) / (c_hi - c_lo))
        prev_value, prev_count = value, c
        # the next pivot lies in [first, last): every pass narrows the bracket
        key = _to_key(v, cell) if v == v else first
        pivot = min(max(key, first), last - 1)
        value = _to_float(pivot, cell)
    return _gather_median(row, pairs, lo, hi, c_lo, r1, r2, buf, cell)


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
def _finish(x, n, s, ties, slope, hamed_rao, band, y, order, ranks, work, row):
    """Mann–Kendall variance, Z and p of one pixel (years ``x``) into ``row`` (slope, p, z, s)."""
    var = (n * (n - 1) * (2 * n + 5) - ties) / 18.0
    if hamed_rao:
        c = 0
        for i in range(x.shape[0]):
            v = x[i]
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
        xt = np.empty((LANES, steps))
        t = years.copy()  # sliced per pixel: a shared array's reference count would bounce
        slopes = np.empty(pairs)
        keys = np.empty(pairs, np.int64)
        sums = np.empty(8, np.int64)
        guess = np.empty(2)
        cell = np.empty(1, np.int64)
        buf = np.empty(pairs, np.int64)
        y = np.empty(steps)
        work = np.empty(steps)
        order = np.empty(steps, np.int64)
        ranks = np.empty(steps)
        end = min(pixels, (c + 1) * CHUNK)
        for p0 in range(c * CHUNK, end, LANES):
            m = min(LANES, end - p0)
            for k in range(steps):  # a block of pixels, read row by row, stored pixel by pixel
                for q in range(m):
                    xt[q, k] = flat[k, p0 + q]
            for q in range(m):
                p = p0 + q
                x = xt[q]
                n = _first_guess(x, t, guess)
                count[p] = n
                if n < min_n or n < 3:
                    out[p, :] = np.nan
                    continue
                # the first pivot: the least-squares slope (finite, so below every gap's key)
                sums[7] = _to_key(guess[0] if math.isfinite(guess[0]) else 0.0, cell)
                _pairs(x, t, slopes, keys, sums, sums[7])
                slope = _median(keys, pairs, n, sums, guess[1], buf, cell)
                _finish(x, n, sums[0], sums[1], slope, hamed_rao, band, y, order, ranks, work,
                        out[p])  # fmt: skip
