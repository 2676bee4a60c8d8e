"""Small deterministic helpers: keyed random streams, exact integer splits, intercept solving, ids."""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd
from scipy import special

__all__ = [
    "apportion",
    "draw_nb",
    "fixed_width_codes",
    "hash_ids",
    "sigmoid",
    "solve_log_shift",
    "solve_logit_shift",
    "stream",
    "take_str",
    "zero_padded",
]


def stream(seed: int, *names: object) -> np.random.Generator:
    """An independent random stream for one component, keyed by name (adding a component changes no other)."""
    key = tuple(zlib.crc32(str(n).encode("utf-8")) for n in names)
    return np.random.default_rng(np.random.SeedSequence(entropy=int(seed), spawn_key=key))


def apportion(total: int, weights) -> np.ndarray:
    """Split the integer ``total`` in proportion to ``weights`` (largest remainder; ties by position)."""
    w = np.asarray(weights, dtype=float)
    if total == 0 or w.sum() <= 0:
        return np.zeros(len(w), dtype=np.int64)
    q = total * w / w.sum()
    base = np.floor(q).astype(np.int64)
    short = int(total - base.sum())
    order = np.argsort(-(q - base), kind="stable")
    base[order[:short]] += 1
    return base


def sigmoid(x):
    return special.expit(x)


def solve_logit_shift(eta: np.ndarray, target_sum: float, lo: float = -25.0, hi: float = 25.0) -> float:
    """The shift c with sum(expit(eta + c)) == target_sum (safeguarded Newton; eta of the eligible only)."""
    eta = np.asarray(eta, dtype=float)
    if eta.size == 0 or target_sum <= 0:
        return -np.inf if target_sum <= 0 else 0.0
    if target_sum >= eta.size:
        return hi
    c = float(np.clip(special.logit(target_sum / eta.size) - np.median(eta), lo, hi))
    for _ in range(60):
        p = special.expit(eta + c)
        g = p.sum() - target_sum
        if abs(g) < 1e-7 * max(target_sum, 1.0):
            break
        if g > 0:
            hi = c
        else:
            lo = c
        d = (p * (1 - p)).sum()
        step = c - g / d if d > 0 else (lo + hi) / 2
        c = step if lo < step < hi else (lo + hi) / 2
    return float(c)


def solve_log_shift(eta: np.ndarray, target_sum: float) -> float:
    """The shift c with sum(exp(eta + c)) == target_sum (closed form)."""
    eta = np.asarray(eta, dtype=float)
    if eta.size == 0 or target_sum <= 0:
        return 0.0
    m = eta.max()
    return float(np.log(target_sum) - (m + np.log(np.exp(eta - m).sum())))


def draw_nb(rng: np.random.Generator, mean: np.ndarray, shape: float) -> np.ndarray:
    """Negative binomial counts (Poisson with gamma(shape, mean/shape) heterogeneity)."""
    lam = rng.standard_gamma(shape, size=mean.shape, dtype=np.float32) * (mean / np.float32(shape))
    return rng.poisson(lam).astype(np.int64)


_HEX = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)
_MASK40 = np.uint64((1 << 40) - 1)
_BYTE_HEX = np.stack([_HEX[np.arange(256) >> 4], _HEX[np.arange(256) & 15]], axis=1)  # byte -> 2 hex digits


def hash_ids(n: int, seed: int, prefix: str = "P") -> pd.api.extensions.ExtensionArray:
    """``n`` distinct pseudonymous ids: prefix + 10 hex digits of a keyed bijection of 0..n-1 on 40 bits.

    The mixing (xor key, odd multiplications and xor-shifts modulo 2**40) is invertible, so ids never collide.
    They are not NHS numbers (letters, 11 characters).
    """
    key = stream(seed, "patient_id").integers(0, 1 << 40, size=3, dtype=np.uint64)
    x = np.arange(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        x = (x ^ key[0]) & _MASK40
        x = (x * np.uint64(0x9E3779B97F4A7C15 | 1)) & _MASK40
        x ^= x >> np.uint64(19)
        x = (x + key[1]) & _MASK40
        x = (x * np.uint64(0xBF58476D1CE4E5B9 | 1)) & _MASK40
        x ^= x >> np.uint64(21)
        x = (x ^ key[2]) & _MASK40
        x = (x * np.uint64(0x94D049BB133111EB | 1)) & _MASK40
        x ^= x >> np.uint64(17)
    low5 = x.astype(">u8").view(np.uint8).reshape(n, 8)[:, 3:]  # the 5 low bytes, most significant first
    return fixed_width_codes(prefix, _BYTE_HEX[low5].reshape(n, 10))


def fixed_width_codes(prefix: str, body_codepoints: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """A pandas ``str`` array of prefix + body from an (n, k) array of ASCII code points, built straight from
    Arrow buffers (no Python string per row)."""
    import pyarrow as pa

    n, k = body_codepoints.shape
    pre = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    width = len(pre) + k
    data = np.empty((n, width), dtype=np.uint8)
    data[:, : len(pre)] = pre
    data[:, len(pre):] = body_codepoints
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int64)
    arrow = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))
    return pd.array(arrow, dtype="str")


def take_str(values, idx: np.ndarray, missing: np.ndarray | None = None) -> pd.api.extensions.ExtensionArray:
    """``values[idx]`` as a pandas ``str`` array (NA where ``missing``), via an Arrow dictionary array."""
    import pyarrow as pa

    indices = pa.array(np.asarray(idx, dtype=np.int32), mask=missing)
    dictionary = pa.array([str(v) for v in values], type=pa.large_string())
    return pd.array(pa.DictionaryArray.from_arrays(indices, dictionary).cast(pa.large_string()), dtype="str")


def zero_padded(prefix: str, numbers: np.ndarray, width: int) -> pd.api.extensions.ExtensionArray:
    """prefix + zero-padded decimal numbers, vectorised."""
    numbers = np.asarray(numbers, dtype=np.int64)
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    digits = (numbers[:, None] // powers[None, :]) % 10
    return fixed_width_codes(prefix, (digits + ord("0")).astype(np.uint8))
