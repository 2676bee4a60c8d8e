"""Life expectancy (methods-vectors.md section 8): PHEindicatormethods phe_life_expectancy."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from popheal.stats import LE_START_AGES, life_expectancy

from ._golden import check_columns

STARTAGE = [0, 1, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80, 85, 90]
POPS = [7060, 35059, 46974, 48489, 43219, 38561, 46009, 57208, 61435, 55601, 50209, 56416, 46411, 39820, 37978,
        37039, 33288, 23306, 11936, 11936]  # fmt: skip
DEATHS = [17, 9, 4, 8, 20, 15, 24, 33, 50, 71, 100, 163, 263, 304, 536, 872, 1390, 1605, 1936, 1937]
VALUE = [80.16960813, 79.36245674, 75.44193645, 70.47299936, 65.52909542, 60.67510088, 55.78835987, 50.92752727,
         46.06740425, 41.24505636, 36.49322717, 31.83343842, 27.26027992, 22.9719144, 18.76856852, 14.95858336,
         11.51684445, 8.618849241, 6.163942934, 6.16210635]  # fmt: skip
LOWER = [79.88268548, 79.0898816, 75.17407307, 70.20675732, 65.26548673, 60.41876577, 55.53801579, 50.68279939,
         45.82666794, 41.00842831, 36.26223216, 31.60996318, 27.04337271, 22.76653134, 18.57570352, 14.77985004,
         11.34831778, 8.451134045, 5.978358351, 5.887683386]  # fmt: skip
UPPER = [80.45653078, 79.63503188, 75.70979983, 70.7392414, 65.79270412, 60.931436, 56.03870395, 51.17225516,
         46.30814055, 41.48168441, 36.72422219, 32.05691365, 27.47718713, 23.17729746, 18.96143352, 15.13731667,
         11.68537112, 8.786564437, 6.349527517, 6.436529314]  # fmt: skip
POPS_USED = [787954, 780894, 745835, 698861, 650372, 607153, 568592, 522583, 465375, 403940, 348339, 298130,
             241714, 195303, 155483, 117505, 80466, 47178, 23872, 11936]  # fmt: skip
DTHS_USED = [9357, 9340, 9331, 9327, 9319, 9299, 9284, 9260, 9227, 9177, 9106, 9006, 8843, 8580, 8276, 7740, 6868,
             5478, 3873, 1937]  # fmt: skip


def _table(**overrides):
    data = {"startage": STARTAGE, "pops": POPS, "deaths": DEATHS}
    data.update(overrides)
    return pd.DataFrame(data)


def test_section_8_all_ages():
    result = life_expectancy(_table(), "deaths", "pops", "startage")
    check_columns(result, {"startage": STARTAGE, "pops_used": POPS_USED, "dths_used": DTHS_USED}, rel=0)
    check_columns(result, {"value": VALUE}, rel=1e-8)  # VALIDATED at 1e-8 (values printed to 10 figures)
    # the table's limits were generated with z = 1.96; the package (and popheal) uses qnorm(0.975): 4 dp
    check_columns(result, {"lowercl": LOWER, "uppercl": UPPER}, rel=0, abs_tol=1e-4)
    assert result["statistic"].iloc[0] == "life expectancy at 0"
    assert result["method"].iloc[0] == "Chiang, using Silcocks et al for confidence limits"
    assert list(result.columns) == ["startage", "pops_used", "dths_used", "value", "lowercl", "uppercl",
                                    "confidence", "statistic", "method"]  # fmt: skip


def test_section_8_full_precision_at_birth():
    result = life_expectancy(_table(), "deaths", "pops", "startage", confidence=(0.95, 0.998), le_age=0)
    check_columns(
        result,
        {
            "value": [80.16960813194838],
            "lower95_0cl": [79.88269075392704],
            "upper95_0cl": [80.45652550996972],
            "lower99_8cl": [79.7172317833235],
            "upper99_8cl": [80.62198448057326],
        },
        rel=1e-9,
    )


def test_band_labels_out_of_order_and_grouped():
    labels = ["0", "1-4"] + [f"{a}-{a + 4}" for a in range(5, 90, 5)] + ["90+"]
    one = _table(startage=labels)
    two = pd.concat([one.assign(area="A"), one.assign(area="B")]).sample(frac=1, random_state=2)
    result = life_expectancy(two, "deaths", "pops", "startage", by="area", le_age=[0, 65])
    assert list(result["area"]) == ["A", "A", "B", "B"]
    assert list(result["startage"]) == ["0", "65-69"] * 2
    check_columns(result, {"value": [VALUE[0], VALUE[14]] * 2}, rel=1e-8)


def _values(table):
    return life_expectancy(table, "deaths", "pops", "startage")["value"]


@pytest.mark.parametrize(
    "change",
    [
        {"pops": [200] + [250] * 19, "deaths": [1] * 20},  # total population 4,950: 5,000 or less
        {"deaths": [-1] + DEATHS[1:]},  # negative deaths
        {"pops": [0] + POPS[1:]},  # zero population
        {"deaths": [DEATHS[0] * 1000] + DEATHS[1:]},  # more deaths than population
        {"deaths": DEATHS[:-1] + [0]},  # no deaths at 90+
        {"deaths": [np.nan] + DEATHS[1:]},  # missing
    ],
)
def test_impossible_or_too_small_input_gives_missing(change):
    result = life_expectancy(_table(**change), "deaths", "pops", "startage")
    assert result[["value", "lowercl", "uppercl"]].isna().all(axis=None)


def test_missing_band_gives_missing_for_that_group_only():
    two = pd.concat([_table().assign(area="A"), _table().assign(area="B").iloc[1:]])
    result = life_expectancy(two, "deaths", "pops", "startage", by="area")
    assert result.loc[result["area"] == "A", "value"].notna().all()
    assert result.loc[result["area"] == "B", "value"].isna().all()
    assert len(result) == 39


def test_wide_interval_suppresses_the_value_but_keeps_the_limits():
    # one death among 50 people aged 90+: e90 = 50 years with a standard error of 50
    sparse = _table(pops=POPS[:-1] + [50], deaths=DEATHS[:-1] + [1])
    result = life_expectancy(sparse, "deaths", "pops", "startage")
    wide = (result["uppercl"] - result["lowercl"]) > 20
    assert wide.any()
    assert result.loc[wide, "value"].isna().all()
    assert result.loc[wide, "lowercl"].notna().all()


def test_unknown_band_is_an_error():
    with pytest.raises(ValueError, match="start ages"):
        life_expectancy(_table(startage=[0, 2] + STARTAGE[2:]), "deaths", "pops", "startage")


def test_start_ages_constant():
    assert LE_START_AGES == tuple(STARTAGE)
    assert math.isclose(sum(POPS), 787954)
