"""Byar's and Wilson limits and confidence parsing (methods-vectors.md sections 1, 2 and 14)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from popheal.stats import _confidence as c


@pytest.mark.parametrize(
    ("x", "level", "lower", "upper"),
    [
        (65, 0.95, 50.16318771046, 82.84913854594),
        (1045, 0.95, 982.5932018073, 1110.331212986),
        (1, 0.95, 0.0130721329015, 5.563755582475),
        (65, 0.998, 42.88026147148, 94.00029084432),
        (1045, 0.998, 947.940703561, 1148.806160988),
        (10, 0.998, 2.916318374696, 24.19372492788),
        (1, 0.998, None, 9.362180217908),
    ],
)
def test_byars_section_1(x, level, lower, upper):
    got_lower = float(c.byars_lower(x, level))
    if lower is None:
        assert math.isnan(got_lower)  # the formula goes negative: NA, as the reference
    else:
        assert math.isclose(got_lower, lower, rel_tol=1e-9)
    assert math.isclose(float(c.byars_upper(x, level)), upper, rel_tol=1e-9)


@pytest.mark.parametrize(
    ("x", "n", "level", "lower", "upper"),
    [
        (65, 100, 0.95, 0.5525444329689, 0.736357517569),
        (1045, 5000, 0.95, 0.1979554988001, 0.2204913037319),
        (0.445, 1, 0.95, 0.04381744772059, 0.9334621276979),
        (65, 100, 0.998, 0.495494657407, 0.778354061409),
        (1045, 5000, 0.998, 0.1917938179902, 0.2273156290253),
        (0.445, 1, 0.998, 0.0193470061329, 0.970225994702),
    ],
)
def test_wilson_section_2(x, n, level, lower, upper):
    assert math.isclose(float(c.wilson_lower(x, n, level)), lower, rel_tol=1e-9)
    assert math.isclose(float(c.wilson_upper(x, n, level)), upper, rel_tol=1e-9)


def test_wilson_confidence_1_is_exactly_0_and_1():
    assert float(c.wilson_lower(65, 100, 1)) == 0.0
    assert float(c.wilson_upper(65, 100, 1)) == 1.0


def test_chi_square_zero_degrees_of_freedom_is_zero_like_r():
    assert math.isnan(sps.chi2.ppf(0.025, 0))  # the scipy behaviour the helper corrects
    assert float(c.qchisq(0.025, 0)) == 0.0
    assert float(c.exact_poisson_lower(0, 0.95)) == 0.0
    # upper limit of a zero count: qchisq(0.975, 2) / 2
    assert math.isclose(float(c.exact_poisson_upper(0, 0.95)), sps.chi2.ppf(0.975, 2) / 2, rel_tol=1e-12)


def test_poisson_limits_switch_from_exact_to_byars_at_10():
    lower, upper = c.poisson_limits(np.array([9.0, 10.0]), 0.95)
    assert math.isclose(lower[0], c.exact_poisson_lower(9, 0.95), rel_tol=1e-15)
    assert math.isclose(lower[1], c.byars_lower(10, 0.95), rel_tol=1e-15)
    assert math.isclose(upper[0], c.exact_poisson_upper(9, 0.95), rel_tol=1e-15)
    assert math.isclose(upper[1], c.byars_upper(10, 0.95), rel_tol=1e-15)
    assert list(c.poisson_method(np.array([9.0, 10.0, np.nan]))) == ["Exact", "Byars", None]


@pytest.mark.parametrize(
    ("given", "levels", "text", "names"),
    [
        (0.95, (0.95,), "95%", [("lowercl", "uppercl")]),
        (95, (0.95,), "95%", [("lowercl", "uppercl")]),
        (99.8, (0.998,), "99.8%", [("lowercl", "uppercl")]),
        (1, (1.0,), "100%", [("lowercl", "uppercl")]),
        (
            (0.95, 0.998),
            (0.95, 0.998),
            "95%, 99.8%",
            [("lower95_0cl", "upper95_0cl"), ("lower99_8cl", "upper99_8cl")],
        ),
        ([95, 99.8], (0.95, 0.998), "95%, 99.8%", [("lower95_0cl", "upper95_0cl"), ("lower99_8cl", "upper99_8cl")]),
    ],
)
def test_confidence_parsing_and_naming(given, levels, text, names):
    parsed = c.parse_confidence(given)
    assert parsed == pytest.approx(levels)
    assert c.confidence_text(parsed) == text
    assert c.limit_names(parsed) == names


@pytest.mark.parametrize("bad", [0.5, 50, 101, (0.95, 0.9), (0.9, 0.95, 0.998), "95", True, float("nan")])
def test_bad_confidence_is_a_plain_error(bad):
    with pytest.raises((ValueError, TypeError)):
        c.parse_confidence(bad)
