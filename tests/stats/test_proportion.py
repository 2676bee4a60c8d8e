"""Proportions (methods-vectors.md sections 3 and 14): PHEindicatormethods phe_proportion."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from popheal.stats import proportion

from ._golden import NA, check_columns

AREAS = pd.DataFrame(
    {
        "area": ["Area1", "Area2", "Area3", "Area4", "Area5", "Area6", "Area7", "Area8", "Area09", "Area10", "Area11"],
        "x": [1, 5, 20, 65, 9856, 7776456, 222, 999, NA, 10, NA],
        "n": [100, 100, 100, 100, 12345, 7564336677, 3215, 3456, 100, NA, NA],
    }
)
EXPECTED = {
    "value": [0.01, 0.05, 0.2, 0.65, 0.7983799108951, 0.001028042025634, 0.06905132192846, 0.2890625, NA, NA, NA],
    "lower95_0cl": [0.001767432064141, 0.02154367915437, 0.133366933331, 0.5525444329689, 0.7912101752909,
                    0.001027320100164, 0.06079169036364, 0.2741895108001, NA, NA, NA],
    "upper95_0cl": [0.05448619617871, 0.1117504692319, 0.2888291655932, 0.736357517569, 0.8053640073615,
                    0.001028764457898, 0.07833956681384, 0.3044038966282, NA, NA, NA],
    "lower99_8cl": [0.0008730656973, 0.013865320726, 0.1051916206671, 0.495494657407, 0.7869924108419,
                    0.001026904011844, 0.05647101964624, 0.2658399576807, NA, NA, NA],
    "upper99_8cl": [0.1045544528371, 0.164588522826, 0.3471109417009, 0.778354061409, 0.809306141259,
                    0.00102918129927, 0.0841841418527, 0.313447544928, NA, NA, NA],
}  # fmt: skip


def test_section_3_row_by_row():
    result = proportion(AREAS, "x", "n", confidence=(0.95, 0.998))
    check_columns(result, EXPECTED, rel=1e-9)
    assert list(result["area"]) == list(AREAS["area"])
    assert (result["confidence"] == "95%, 99.8%").all()
    assert (result["statistic"] == "proportion of 1").all()
    assert (result["method"] == "Wilson").all()


def test_section_3_grouped_by_area_gives_the_same():
    result = proportion(AREAS.sample(frac=1, random_state=3), "x", "n", by="area", confidence=(95, 99.8))
    expected = pd.DataFrame(EXPECTED).assign(area=AREAS["area"]).sort_values("area")
    check_columns(result, {k: list(expected[k]) for k in EXPECTED}, rel=1e-9)


def test_multiplier_100_is_a_percentage():
    result = proportion(AREAS.iloc[[3]], "x", "n", confidence=(0.95, 0.998), multiplier=100)
    check_columns(
        result,
        {"value": [65], "lower95_0cl": [55.2544432969], "upper95_0cl": [73.6357517569],
         "lower99_8cl": [49.5494657407], "upper99_8cl": [77.8354061409]},
        rel=1e-9,
    )  # fmt: skip
    assert result["statistic"].iloc[0] == "percentage"


def test_grouped_input_is_summed_first():
    df = pd.DataFrame({"g": ["a", "a"], "x": [1, 1], "n": [100, 100]})
    result = proportion(df, "x", "n", by="g")
    check_columns(result, {"x": [2], "n": [200], "value": [0.01], "lowercl": [0.0027466581],
                           "uppercl": [0.0357217617]}, rel=0, abs_tol=5e-11)  # printed to 10 dp  # fmt: skip
    assert list(result.columns) == ["g", "x", "n", "value", "lowercl", "uppercl", "confidence", "statistic", "method"]


@pytest.mark.parametrize(
    ("x", "n", "level", "expected"),
    [
        (0, 100, 0.95, [0, 0, 0.03699349820699]),
        (100, 100, 0.95, [1, 0.9630065017930, 1]),
        (0, 10, 0.998, [0, 0, 0.4884789004535]),
    ],
)
def test_section_14_edges(x, n, level, expected):
    result = proportion(pd.DataFrame({"x": [x], "n": [n]}), "x", "n", confidence=level)
    check_columns(result, {"value": [expected[0]], "lowercl": [expected[1]], "uppercl": [expected[2]]},
                  rel=1e-9, abs_tol=1e-15)  # fmt: skip


def test_zero_denominator_gives_missing_not_an_error():
    result = proportion(pd.DataFrame({"x": [0, 3], "n": [0, 10]}), "x", "n")
    assert result["value"].isna().tolist() == [True, False]
    assert result["lowercl"].isna().tolist() == [True, False]


def test_confidence_1_gives_0_and_1():
    result = proportion(pd.DataFrame({"x": [5], "n": [10]}), "x", "n", confidence=1)
    check_columns(result, {"lowercl": [0.0], "uppercl": [1.0], "confidence": ["100%"]})


def test_row_by_row_keeps_the_index_and_columns():
    df = AREAS.set_index("area").iloc[:3]
    result = proportion(df, "x", "n")
    assert list(result.index) == list(df.index)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"x": [5], "n": [4]}), "exceeds"),
        (pd.DataFrame({"x": [-1], "n": [4]}), "zero or more"),
        (pd.DataFrame({"x": ["a"], "n": [4]}), "numeric"),
        (pd.DataFrame({"y": [1], "n": [4]}), "not found"),
    ],
)
def test_bad_input_is_a_plain_error(frame, message):
    with pytest.raises((ValueError, TypeError), match=message):
        proportion(frame, "x", "n")


def test_values_are_floats():
    result = proportion(pd.DataFrame({"x": [1], "n": [2]}), "x", "n")
    assert result["value"].dtype == np.float64
