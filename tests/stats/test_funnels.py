"""Funnel limits and significance (methods-vectors.md section 11): PHEindicatormethods calculate_funnel_limits
and assign_funnel_significance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from popheal.stats import SIGNIFICANCE_LABELS, funnel_limits, funnel_significance, proportion, rate
from popheal.stats.funnels import _poisson_funnel

from ._golden import check_columns


def _with_average(average, denominators):
    """Units whose denominators span the given range and whose overall proportion is ``average``."""
    den = np.asarray(denominators, dtype=float)
    num = den * 0.8
    num[-1] = average * den.sum() - num[:-1].sum()
    return pd.DataFrame({"num": num, "den": den})


def test_section_11a_proportion_limits():
    data = _with_average(0.8064244785714955, [16386, 102950, 50000])
    result = funnel_limits(data, "num", "den", statistic="proportion", multiplier=100)
    assert len(result) == 100
    assert result["population"].iloc[0] == 1 and result["population"].iloc[-1] == 110000
    rows = result.set_index("population").loc[[1, 2, 3, 11, 83, 664, 5348, 110000]].reset_index()
    check_columns(
        rows,
        {
            "lower_2s_limit": [3.204264, 25.885383, 35.933491, 57.293957, 72.142503, 77.637263, 79.583537,
                               80.408963],
            "upper_2s_limit": [100, 100, 100, 100, 89.142393, 83.647632, 81.701359, 80.875933],
            "lower_3s_limit": [0, 0, 10.150815, 43.829393, 67.240771, 75.904239, 78.972886, 80.274317],
            "upper_3s_limit": [100, 100, 100, 100, 94.044125, 85.380656, 82.31201, 81.010578],
            "baseline": [80.642448] * 8,
        },
        rel=1e-6,
        abs_tol=1e-12,
    )  # fmt: skip
    assert list(result.columns) == ["population", "lower_2s_limit", "upper_2s_limit", "lower_3s_limit",
                                    "upper_3s_limit", "baseline", "statistic", "method"]  # fmt: skip


def test_section_11a_axis_variation():
    data = _with_average(0.8218033788, [16386, 30929, 20000])
    result = funnel_limits(data, "num", "den", statistic="proportion", multiplier=100)
    check_columns(
        result.iloc[[0, -1]],
        {
            "population": [10000, 33000],
            "lower_2s_limit": [81.43030244, 81.76745696],
            "upper_2s_limit": [82.93037332, 82.5932188],
            "lower_3s_limit": [80.99777342, 81.52935757],
            "upper_3s_limit": [83.36290233, 82.83131819],
            "baseline": [82.18033788, 82.18033788],
        },
        rel=1e-6,
    )


RATIO = {
    1: (5.571644585, -0.820519779, 17.94802207, 0.025317898, 38.49774946, 3949.774946, 9.233410143, 10.83023482,
        0.001000547, 99945.32721),
    2: (7.224687515, -0.723171418, 27.6828582, 0.242209467, 7.257315569, 825.7315569, 11.22886836, 17.81123382,
        0.04540199, 4405.093268),
    3: (8.767273828, -0.657818376, 34.21816244, 0.618671905, 3.849096876, 484.9096876, 13.06224507, 22.96695541,
        0.190533306, 1574.52787),
    10: (18.39035799, -0.456236795, 54.3763205, 4.795387629, 1.085337156, 208.5337156, 24.13397235, 41.43536693,
         2.960519925, 337.778507),
    73: (91.78655238, -0.204676523, 79.53234772, 57.22035714, 0.275769737, 127.5769737, 103.4533683, 70.56319305,
         49.4154106, 147.727195),
    716: (770.4222128, -0.070639465, 92.93605352, 664.5083011, 0.077488421, 107.7488421, 802.60414, 89.20960712,
          636.1521174, 112.5516964),
}  # fmt: skip


def test_section_11b_ratio_limits():
    data = pd.DataFrame({"observed": [10, 20], "expected": [1, 800]})  # axis 1 .. 840 observed events
    isr_scale = funnel_limits(data, "observed", "expected", statistic="ratio", multiplier=100)
    count_scale = funnel_limits(data, "observed", "expected", statistic="ratio", multiplier=1)
    points = [o for o in RATIO if o in set(isr_scale["observed_events"])]
    assert points == [1, 2, 3, 10, 73]
    rows = isr_scale.set_index("observed_events").loc[points]
    counts = count_scale.set_index("observed_events").loc[points]
    expected = {o: RATIO[o] for o in points}
    check_columns(
        rows,
        {
            "lower_2s_exp_events": [v[0] for v in expected.values()],
            "lower_2s_limit": [v[2] for v in expected.values()],
            "upper_2s_exp_events": [v[3] for v in expected.values()],
            "upper_2s_limit": [v[5] for v in expected.values()],
            "lower_3s_exp_events": [v[6] for v in expected.values()],
            "lower_3s_limit": [v[7] for v in expected.values()],
            "upper_3s_exp_events": [v[8] for v in expected.values()],
            "upper_3s_limit": [v[9] for v in expected.values()],
        },
        rel=2e-9,
        abs_tol=5e-10,  # printed to 9 decimal places
    )
    check_columns(
        counts.assign(lower_2s_count=counts["lower_2s_limit"] - 1, upper_2s_count=counts["upper_2s_limit"] - 1),
        {"lower_2s_count": [v[1] for v in expected.values()], "upper_2s_count": [v[4] for v in expected.values()]},
        rel=2e-9,
        abs_tol=5e-10,  # printed to 9 decimal places
    )
    assert (rows["baseline"] == 100).all()


def test_section_11b_expected_events_at_716():
    observed = np.array(list(RATIO), dtype=float)
    check_columns(
        pd.DataFrame(
            {
                "lower_2s": _poisson_funnel(observed, 0.025, "high"),
                "upper_2s": _poisson_funnel(observed, 0.025, "low"),
                "lower_3s": _poisson_funnel(observed, 0.001, "high"),
                "upper_3s": _poisson_funnel(observed, 0.001, "low"),
            }
        ),
        {
            "lower_2s": [v[0] for v in RATIO.values()],
            "upper_2s": [v[3] for v in RATIO.values()],
            "lower_3s": [v[6] for v in RATIO.values()],
            "upper_3s": [v[8] for v in RATIO.values()],
        },
        rel=2e-9,
        abs_tol=5e-10,  # printed to 9 decimal places
    )


def _units(seed=1, n=300):
    rng = np.random.default_rng(seed)
    den = rng.integers(50, 20000, n).astype(float)
    p = np.clip(rng.normal(0.3, 0.03, n), 0.01, 0.99)
    num = rng.binomial(den.astype(int), p).astype(float)
    return pd.DataFrame({"unit": range(n), "num": num, "den": den})


def test_proportion_significance_agrees_with_each_units_wilson_interval():
    data = _units()
    result = funnel_significance(data, "num", "den", statistic="proportion")
    average = data["num"].sum() / data["den"].sum()
    limits = proportion(data, "num", "den", confidence=(0.95, 0.998))
    expected = np.select(
        [limits["lower99_8cl"] > average, limits["lower95_0cl"] > average,
         limits["upper99_8cl"] < average, limits["upper95_0cl"] < average],
        ["High (0.001)", "High (0.025)", "Low (0.001)", "Low (0.025)"],
        default="Not significant",
    )  # fmt: skip
    assert list(result["significance"]) == list(expected)
    assert set(result["significance"]) <= set(SIGNIFICANCE_LABELS)
    assert len(set(result["significance"])) >= 3


def test_ratio_significance_agrees_with_the_ratio_limits():
    rng = np.random.default_rng(2)
    expected = rng.uniform(0.5, 200, 400)
    observed = rng.poisson(expected * rng.lognormal(0, 0.3, 400)).astype(float)
    data = pd.DataFrame({"o": observed, "e": expected})
    result = funnel_significance(data, "o", "e", statistic="ratio")
    limits = rate(data, "o", "e", confidence=(0.95, 0.998), multiplier=1)
    want = np.select(
        [limits["lower99_8cl"] > 1, limits["lower95_0cl"] > 1, limits["upper99_8cl"] < 1, limits["upper95_0cl"] < 1],
        ["High (0.001)", "High (0.025)", "Low (0.001)", "Low (0.025)"],
        default="Not significant",
    )
    assert list(result["significance"]) == list(want)


def test_dsr_significance_with_few_events_is_not_applicable():
    data = pd.DataFrame({"events": [5, 0, 40, 200, 12], "dsr": [np.nan, 0.0, 800.0, 950.0, 50.0],
                         "pop": [500, 600, 5000, 20000, 24000]})  # fmt: skip
    result = funnel_significance(data, "events", "pop", statistic="rate", multiplier=100000, rate="dsr",
                                 rate_type="dsr")  # fmt: skip
    assert list(result["significance"][:2]) == ["Not applicable for events less than 10 for dsrs"] * 2
    assert result["significance"].iloc[4].startswith("Low")


def test_missing_or_zero_denominators_give_missing_significance():
    data = pd.DataFrame({"o": [5, np.nan, 20, 8], "e": [4.0, 6.0, 0.0, 7.5]})
    result = funnel_significance(data, "o", "e", statistic="ratio")
    assert result["significance"].isna().tolist() == [False, True, True, False]


def test_rate_limits_bracket_the_baseline_and_grouping_gives_one_funnel_each():
    rng = np.random.default_rng(3)
    pop = rng.integers(2000, 30000, 200).astype(float)
    events = rng.poisson(pop * 0.01).astype(float)
    data = pd.DataFrame({"ind": np.repeat(["a", "b"], 100), "events": events, "rate": events / pop * 1000})
    result = funnel_limits(data, "events", None, statistic="rate", multiplier=1000, rate="rate",
                           rate_type="crude", years_of_data=3, by="ind")  # fmt: skip
    assert len(result) == 200 and list(result["ind"].unique()) == ["a", "b"]
    assert (result["lower_2s_limit"] <= result["baseline"]).all()
    assert (result["upper_2s_limit"] >= result["baseline"]).all()
    assert (result["lower_3s_limit"] <= result["lower_2s_limit"]).all()
    assert result["statistic"].iloc[0] == "rate (crude per 1000)"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"statistic": "odds"}, "statistic"),
        ({"statistic": "rate", "rate": "num"}, "rate_type"),
        ({"statistic": "rate", "rate": "num", "rate_type": "crude", "multiplier": 1000}, "years_of_data"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        funnel_limits(_units(), "num", "den", **kwargs)
