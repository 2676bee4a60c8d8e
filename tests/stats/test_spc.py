"""XmR charts and Making Data Count rules (methods-vectors.md section 13): NHSRplotthedots."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from popheal.stats import spc_icons, xmr
from popheal.stats.spc import _part_of_seven, _seven_point_one_side_mean, _seven_point_trend, _two_in_three

from ._golden import check_columns

# R: set.seed(123); rnorm(20), as printed in the NHSRplotthedots snapshot
Y = [-0.56047565, -0.23017749, 1.55870831, 0.07050839, 0.12928774, 1.71506499, 0.46091621, -1.26506123,
     -0.68685285, -0.44566197, 1.22408180, 0.35981383, 0.40077145, 0.11068272, -0.55584113, 1.78691314,
     0.49785048, -1.96661716, 0.70135590, -0.47279141]  # fmt: skip


def _first(result):
    return result.iloc[[0]]


def test_r1_all_points_screened():
    result = xmr(pd.Series(Y))
    check_columns(_first(result), {"mean": [0.1416238035], "lpl": [-3.011379594], "upl": [3.294627201]}, rel=1e-9)
    relative = np.sign(result["value"] - result["mean"]).tolist()[:13]
    assert relative == [-1, -1, 1, -1, -1, 1, 1, -1, -1, -1, 1, 1, 1]
    assert not result["special_cause"].any()
    assert (result["rule"] == "Common Cause").all() and (result["direction"] == "neither").all()
    assert list(result.columns) == ["value", "mean", "lpl", "upl", "special_cause", "rule", "direction"]


def test_r2_r3_outlier_screening():
    y = list(Y)
    y[14] = 10
    screened = xmr(y, screen_outliers=True)
    check_columns(_first(screened), {"mean": [0.6694159], "lpl": [-2.383666], "upl": [3.722497]}, rel=1e-6)
    unscreened = xmr(y, screen_outliers=False)
    check_columns(_first(unscreened), {"mean": [0.6694159], "lpl": [-4.596625], "upl": [5.935457]}, rel=1e-6)
    assert screened["rule"].iloc[14] == "Above UCL"


def test_facets_first_and_last_ten():
    check_columns(_first(xmr(Y[:10])), {"mean": [0.0746], "lpl": [-2.60], "upl": [2.75]}, rel=0, abs_tol=5e-3)
    check_columns(_first(xmr(Y[10:])), {"mean": [0.209], "lpl": [-3.28], "upl": [3.70]}, rel=0, abs_tol=5e-3)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (list(range(1, 7)), [0] * 6),
        ([1, 2, 3, 3, 4, 5, 6], [0] * 7),
        (list(range(1, 8)), [0] * 6 + [1]),
        ([2, 1, 2, 3, 4, 5, 6, 7, 3], [0] * 7 + [1, 0]),
        (list(range(7, 0, -1)), [0] * 6 + [-1]),
    ],
)
def test_seven_point_trend(values, expected):
    assert _seven_point_trend(np.asarray(values, dtype=float)).tolist() == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1] * 6, [0] * 6),
        ([1] * 6 + [-1], [0] * 7),
        ([1] * 8 + [-1], [0] * 6 + [1, 1, 0]),
        ([-1] * 8 + [1], [0] * 6 + [1, 1, 0]),
    ],
)
def test_seven_point_one_side_mean(values, expected):
    assert _seven_point_one_side_mean(np.asarray(values, dtype=float)).tolist() == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([0] * 6 + [1, 0], [1] * 7 + [0]),
        ([0] * 7 + [-1, 0], [0] + [1] * 7 + [0]),
    ],
)
def test_part_of_seven_trend(values, expected):
    assert _part_of_seven(np.asarray(values, dtype=float)).tolist() == expected


@pytest.mark.parametrize(
    ("close", "rtm", "expected"),
    [
        ([1, 0, 1], [1, 1, 1], [1, 1, 1]),
        ([0, 0, 1, 0, 1, 0, 0], [1] * 7, [0, 0, 1, 1, 1, 0, 0]),
        ([0, 0, 1, 1, 0, 0, 0], [1] * 7, [0, 1, 1, 1, 1, 0, 0]),
        ([1, 0, 1], [1, -1, 1], [0, 0, 0]),
    ],
)
def test_two_in_three(close, rtm, expected):
    got = _two_in_three(np.asarray(close, dtype=bool), np.asarray(rtm, dtype=float))
    assert got.tolist() == expected


def test_rules_end_to_end_and_direction():
    base = [10, 11, 9, 10, 12, 8, 10, 11, 9, 10] * 2
    shift = base + [12, 12.5, 11.5, 12, 12.2, 11.8, 12.1]
    result = xmr(shift, improvement="decrease")
    assert (result["rule"].iloc[-7:] == "7 Points Above CL").all()
    assert (result["direction"].iloc[-7:] == "concern").all()
    trend = base + [7, 8, 9, 10, 11, 12, 13]
    result = xmr(trend, improvement="increase")
    assert (result["rule"].iloc[-7:] == "7 Point Trend (Increasing)").all()
    assert (result["direction"].iloc[-7:] == "improvement").all()
    neutral = xmr(trend)
    assert (neutral["direction"] == "neither").all() and neutral["special_cause"].iloc[-1]


def test_two_in_three_beyond_two_sigma():
    base = [10, 11, 9, 10, 12, 8, 10, 11, 9, 10] * 2
    # limits fixed on the first 20 points: mean 10, upper limit 14.48, two-sigma line 12.99
    result = xmr([*base, 13.5, 10.5, 13.5, 10], fix_after_n_points=20)
    assert result["rule"].iloc[-4] == "2 in 3 Above CL"
    assert result["rule"].iloc[-2] == "2 in 3 Above CL"
    assert result["rule"].iloc[-3] == "Common Cause"  # the point between them is not flagged


def test_icons():
    base = [10, 11, 9, 10, 12, 8, 10, 11, 9, 10] * 2
    assert spc_icons(base) == {"variation": "common cause", "assurance": None}
    assert spc_icons(base + [30], improvement="increase", target=5) == {
        "variation": "special cause improvement (high)",
        "assurance": "pass",
    }
    assert spc_icons(base + [30], improvement="decrease", target=10)["variation"] == "special cause concern (high)"
    assert spc_icons(base + [30], target=10)["variation"] == "special cause neither (high)"
    assert spc_icons(base, improvement="increase", target=10)["assurance"] == "hit and miss"
    assert spc_icons(base, improvement="increase", target=100)["assurance"] == "fail"
    chart = xmr(base + [-5], improvement="increase")
    assert spc_icons(chart) == {"variation": "special cause concern (low)", "assurance": None}


def test_keeps_the_series_index_and_rejects_gaps():
    index = pd.date_range("2023-01-01", periods=20, freq="MS")
    assert xmr(pd.Series(Y, index=index)).index.equals(index)
    with pytest.raises(ValueError, match="missing"):
        xmr([1.0, np.nan, 2.0])
    with pytest.raises(ValueError, match="improvement"):
        xmr(Y, improvement="up")


def test_baseline_fixes_the_limits():
    result = xmr(Y + [5, 5, 5], fix_after_n_points=20)
    check_columns(_first(result), {"mean": [0.1416238035], "lpl": [-3.011379594]}, rel=1e-9)
    assert result["rule"].iloc[-1] == "Above UCL"
