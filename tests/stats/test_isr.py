"""Indirectly standardised ratios and rates (methods-vectors.md sections 7 and 14)."""

from __future__ import annotations

import pandas as pd

from popheal.stats import isr

from ._golden import BANDS, NA, REF_COUNT, REF_POP, check_columns, multiarea

EXPECTED_E = 835.8835612312


def _data():
    data = multiarea()
    # the ISR sheet has both count and population missing in the tiny area's 10-14 band (treated as 0)
    data.loc[(data["area"] == "testdata_tiny") & (data["age_band"] == "10-14"), "pop"] = NA
    return data


def test_section_7_ratio_x1():
    result = isr(_data(), "count", "pop", dict(zip(BANDS, REF_COUNT)), dict(zip(BANDS, REF_POP)), by="area",
                 confidence=(0.95, 0.998))  # fmt: skip
    check_columns(
        result,
        {
            "observed": [895, 91, 9],
            "expected": [EXPECTED_E] * 3,
            "value": [1.070723293902, 0.108866837704, 0.01076704988281],
            "lower95_0cl": [1.001714771255, 0.08765040101829, 0.004923380825096],
            "upper95_0cl": [1.14323328725, 0.1336657632842, 0.0204392145555],
            "lower99_8cl": [0.9635155619614, 0.07695425528392, 0.002933930655068],
            "upper99_8cl": [1.186007041588, 0.1489792051047, 0.02710589651469],
            "statistic": ["indirectly standardised ratio x 1"] * 3,
            "method": ["Byars", "Byars", "Exact"],
        },
        rel=1e-9,
    )
    assert list(result.columns) == ["area", "observed", "expected", "value", "lower95_0cl", "upper95_0cl",
                                    "lower99_8cl", "upper99_8cl", "confidence", "statistic", "method"]  # fmt: skip


def test_section_7_ratio_x100_with_reference_columns():
    data = _data().assign(ref_x=lambda d: d["age_band"].map(dict(zip(BANDS, REF_COUNT))),
                          ref_n=lambda d: d["age_band"].map(dict(zip(BANDS, REF_POP))))  # fmt: skip
    result = isr(data, "count", "pop", "ref_x", "ref_n", by="area", confidence=(0.95, 0.998), multiplier=100)
    check_columns(
        result,
        {
            "value": [107.0723293902, 10.8866837704, 1.076704988281],
            "lower95_0cl": [100.1714771255, 8.765040101829, 0.4923380825096],
            "upper95_0cl": [114.323328725, 13.36657632842, 2.04392145555],
            "lower99_8cl": [96.35155619614, 7.695425528392, 0.2933930655068],
            "upper99_8cl": [118.6007041588, 14.89792051047, 2.710589651469],
            "statistic": ["indirectly standardised ratio x 100"] * 3,
        },
        rel=1e-9,
    )


def test_section_7_rate_per_100000():
    result = isr(_data(), "count", "pop", dict(zip(BANDS, REF_COUNT)), dict(zip(BANDS, REF_POP)), by="area",
                 confidence=(0.95, 0.998), kind="rate", multiplier=100000)  # fmt: skip
    check_columns(
        result,
        {
            "value": [10011.13762209, 1017.892205151, 100.6706576523],
            "lower95_0cl": [9365.916002979, 819.5210025065, 46.03303513308],
            "upper95_0cl": [10689.09758291, 1249.759260138, 191.1042665905],
            "lower99_8cl": [9008.757861866, 719.5132903528, 27.43190862554],
            "upper99_8cl": [11089.02718538, 1392.938150899, 253.4369635219],
            "statistic": ["indirectly standardised rate per 100000"] * 3,
            "method": ["Byars", "Byars", "Exact"],
        },
        rel=1e-9,
    )


def test_reference_rate_and_expected():
    assert abs(sum(REF_COUNT) / sum(REF_POP) - 0.093498830922110) < 1e-15
    result = isr(_data(), "count", "pop", dict(zip(BANDS, REF_COUNT)), dict(zip(BANDS, REF_POP)))
    check_columns(result, {"observed": [995]}, rel=1e-12)


def test_section_14_zero_observed():
    df = pd.DataFrame({"age_band": ["all"], "o": [0], "n": [1000], "rx": [5], "rn": [1000]})
    result = isr(df, "o", "n", "rx", "rn")
    check_columns(result, {"expected": [5], "value": [0], "lowercl": [0], "uppercl": [0.7377758908228]}, rel=1e-9)
