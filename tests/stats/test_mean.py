"""Means (methods-vectors.md section 5): PHEindicatormethods phe_mean."""

from __future__ import annotations

import pandas as pd

from popheal.stats import mean

from ._golden import NA, check_columns

AREA1 = [33.09375, 48.38596, 64.83495, 67.98475, 22.93556, 71.23587, 38.78465, 82.37927]
AREA2 = [5555.66666, 6666.77777, 4444.88888, 2222.99999, 3333.88888, 5555.44444, 6666.33333, 7777.44444,
         5555.99999, 8888.33333, 2222.55555, 4444.33333, 6666.22222, 4444.11111, 4444.22222, 5555.11111,
         7777.22222, 9999.77777]  # fmt: skip
DATA = pd.DataFrame({"area": ["Area1"] * 8 + ["Area2"] * 18, "v": AREA1 + AREA2})


def test_section_5_grouped():
    result = mean(DATA, "v", by="area", confidence=(0.95, 0.998))
    check_columns(
        result,
        {
            "value_sum": [429.63476, 102221.33324],
            "value_count": [8, 18],
            "stdev": [20.97557525771, 2117.831716159],
            "value": [53.704345, 5678.962957778],
            "lower95_0cl": [36.16832524134, 4625.790022453],
            "upper95_0cl": [71.24036475866, 6732.135893103],
            "lower99_8cl": [18.21670529479, 3859.07709973],
            "upper99_8cl": [89.19198470521, 7498.848815826],
        },
        rel=1e-9,
    )
    assert list(result.columns) == ["area", "value_sum", "value_count", "stdev", "value", "lower95_0cl",
                                    "upper95_0cl", "lower99_8cl", "upper99_8cl", "confidence", "statistic",
                                    "method"]  # fmt: skip
    assert (result["method"] == "Student's t-distribution").all()
    assert (result["statistic"] == "mean").all()


def test_section_5_no_grouping():
    result = mean(DATA, "v", confidence=(0.95, 0.998))
    check_columns(
        result,
        {
            "value_sum": [102650.968],
            "value_count": [26],
            "stdev": [3171.801812219],
            "value": [3948.114153846],
            "lower95_0cl": [2666.995676746],
            "upper95_0cl": [5229.232630946],
            "lower99_8cl": [1801.953538547],
            "upper99_8cl": [6094.274769145],
        },
        rel=1e-9,
    )


def test_missing_value_makes_its_group_missing():
    df = pd.DataFrame({"g": ["a", "a", "b", "b"], "v": [1.0, NA, 2.0, 4.0]})
    result = mean(df, "v", by="g")
    assert result["value"].isna().tolist() == [True, False]
    check_columns(result.iloc[[1]], {"value": [3.0]})
