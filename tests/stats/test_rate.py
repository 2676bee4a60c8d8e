"""Crude rates (methods-vectors.md sections 4 and 14): PHEindicatormethods phe_rate."""

from __future__ import annotations

import pandas as pd
import pytest

from popheal.stats import rate

from ._golden import NA, check_columns

AREAS = pd.DataFrame(
    {
        "area": ["Area1", "Area2", "Area3", "Area4", "Area5", "Area6", "Area7", "Area8", "Area09", "Area10",
                 "Area11", "Area12"],
        "x": [1, 5, 20, 65, 9856, 7776456, 222, 999, NA, 10, NA, 250],
        "n": [100, 100, 100, 100, 12345, 7564336677, 3215, 3456, 100, NA, NA, 220],
    }
)  # fmt: skip
EXPECTED = {
    "value": [1000, 5000, 20000, 65000, 79837.99108951, 102.8042025634, 6905.132192846, 28906.25, NA, NA, NA,
              113636.3636364],
    "lower95_0cl": [25.31780798429, 1623.486390118, 12211.42883488, 50163.18771046, 78269.49058977,
                    102.731960053, 6026.574877653, 27141.30493609, NA, NA, NA, 99984.94738533],
    "upper95_0cl": [5571.643390939, 11668.33207932, 30889.8803692, 82849.13854594, 81430.01654272,
                    102.8764833409, 7875.729370872, 30755.83323738, NA, NA, NA, 128631.1448746],
    "lower99_8cl": [1.000500333584, 739.3717319178, 8922.802365144, 42880.26147148, 77375.90543271,
                    102.6903173085, 5560.73769526, 26162.14759645, NA, NA, NA, 92710.00554439],
    "upper99_8cl": [9233.413476452, 16454.74520368, 38085.03562504, 94000.29084432, 82354.47277095,
                    102.9181763951, 8461.046681733, 31845.60481982, NA, NA, NA, 137651.2377215],
    "method": ["Exact", "Exact", "Byars", "Byars", "Byars", "Byars", "Byars", "Byars", NA, "Byars", NA, "Byars"],
}  # fmt: skip


def test_section_4():
    result = rate(AREAS, "x", "n", confidence=(0.95, 0.998))
    check_columns(result, EXPECTED, rel=1e-9)
    assert (result["statistic"] == "rate per 100000").all()
    assert (result["confidence"] == "95%, 99.8%").all()


def test_section_4_grouped():
    result = rate(AREAS, "x", "n", by="area", confidence=(0.95, 0.998))
    order = AREAS["area"].argsort().to_numpy()
    check_columns(result, {k: [v[i] for i in order] for k, v in EXPECTED.items()}, rel=1e-9)
    assert list(result.columns[:3]) == ["area", "x", "n"]


@pytest.mark.parametrize(
    ("x", "level", "expected"),
    [
        (0, 0.95, [0, 0, 368.8879454114]),
        (0, 0.998, [0, 0, 690.7755278982]),
        (9, 0.95, [900, 411.5373097378, 1708.4803451419]),
        (10, 0.95, [1000, 478.7449913968, 1839.1458605756]),
    ],
)
def test_section_14_edges(x, level, expected):
    result = rate(pd.DataFrame({"x": [x], "n": [1000]}), "x", "n", confidence=level)
    check_columns(result, {"value": [expected[0]], "lowercl": [expected[1]], "uppercl": [expected[2]]}, rel=1e-9)


def test_x_greater_than_n_is_allowed():
    result = rate(pd.DataFrame({"x": [250], "n": [220]}), "x", "n")
    assert result["value"].iloc[0] > 100000


def test_zero_population_gives_missing():
    result = rate(pd.DataFrame({"x": [3], "n": [0]}), "x", "n")
    assert result[["value", "lowercl", "uppercl"]].isna().all(axis=None)


def test_missing_count_in_a_group_makes_the_group_missing():
    df = pd.DataFrame({"g": ["a", "a", "b"], "x": [1, NA, 4], "n": [10, 10, 10]})
    result = rate(df, "x", "n", by="g")
    assert result["value"].isna().tolist() == [True, False]
