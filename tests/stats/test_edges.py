"""Edge cases across functions: confidence 1, zero counts and populations, missing inputs, small tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import popheal.stats as ps

from ._golden import BANDS, REF_COUNT, REF_POP, multiarea


def test_confidence_1_runs_everywhere_and_opens_the_limits():
    data = multiarea()
    for result in (
        ps.dsr(data, "count", "pop", by="area", confidence=1),
        ps.isr(data, "count", "pop", dict(zip(BANDS, REF_COUNT)), dict(zip(BANDS, REF_POP)), by="area",
               confidence=100),
        ps.rate(data, "count", "pop", by="area", confidence=1),
    ):
        assert (result["confidence"] == "100%").all()
        ok = result["value"].notna()
        assert np.isinf(result.loc[ok, "uppercl"]).all()
        lower = result.loc[ok, "lowercl"]
        assert (lower.isna() | (lower <= result.loc[ok, "value"])).all()


def test_zero_counts_everywhere():
    data = multiarea().assign(count=0.0)
    assert ps.dsr(data, "count", "pop", by="area")["value"].isna().all()  # under 10 events
    isr = ps.isr(data, "count", "pop", dict(zip(BANDS, REF_COUNT)), dict(zip(BANDS, REF_POP)), by="area")
    assert (isr["value"] == 0).all() and (isr["lowercl"] == 0).all() and (isr["uppercl"] > 0).all()
    assert (isr["method"] == "Exact").all()


def test_life_expectancy_total_population_boundary():
    ages = [0, 1, *range(5, 95, 5)]
    deaths = [1] * 20
    at_limit = pd.DataFrame({"age": ages, "pop": [250] * 20, "deaths": deaths})  # 5,000 exactly
    above = at_limit.assign(pop=[251] + [250] * 19)
    assert ps.life_expectancy(at_limit, "deaths", "pop", "age")["value"].isna().all()
    assert ps.life_expectancy(above, "deaths", "pop", "age", le_age=0)["lowercl"].notna().all()


def test_isr_kind_and_reference_checks():
    data = multiarea()
    with pytest.raises(ValueError, match="kind"):
        ps.isr(data, "count", "pop", dict(zip(BANDS, REF_COUNT)), dict(zip(BANDS, REF_POP)), kind="index")
    zero_ref = dict(zip(BANDS, REF_POP)) | {"0-4": 0}
    result = ps.isr(data, "count", "pop", dict(zip(BANDS, REF_COUNT)), zero_ref, by="area")
    assert result["value"].isna().all()  # a reference band with no population cannot give a rate


def test_dsr_multiplier_text():
    result = ps.dsr(multiarea(), "count", "pop", by="area", multiplier=1000)
    assert result["statistic"].iloc[0] == "dsr per 1000"


def test_grouping_keeps_missing_keys_as_their_own_group():
    data = pd.DataFrame({"g": ["a", None, "a", None], "x": [1, 2, 3, 4], "n": [10, 10, 10, 10]})
    result = ps.rate(data, "x", "n", by="g")
    assert result["x"].tolist() == [4, 6]
    assert result["g"].iloc[0] == "a" and pd.isna(result["g"].iloc[1])


def test_categorical_by_columns_keep_their_dtype():
    data = multiarea().astype({"area": "category"})
    result = ps.dsr(data, "count", "pop", by="area")
    assert isinstance(result["area"].dtype, pd.CategoricalDtype)
    assert list(result["area"]) == ["testdata_big", "testdata_small", "testdata_tiny"]


def test_funnel_rate_limits_have_annual_populations():
    rng = np.random.default_rng(1)
    pop = rng.integers(5000, 20000, 50).astype(float)
    events = rng.poisson(pop * 0.02).astype(float)
    data = pd.DataFrame({"events": events, "rate": events / pop * 100000})
    three_years = ps.funnel_limits(data, "events", None, statistic="rate", multiplier=100000, rate="rate",
                                   rate_type="crude", years_of_data=3)  # fmt: skip
    one_year = ps.funnel_limits(data, "events", None, statistic="rate", multiplier=100000, rate="rate",
                                rate_type="crude", years_of_data=1)  # fmt: skip
    assert "lower_2s_population_1_year" in three_years.columns
    assert three_years["baseline"].iloc[0] == pytest.approx(events.sum() / pop.sum() * 100000)
    common = three_years.merge(one_year, on="events", suffixes=("_3", "_1"))
    assert np.allclose(common["lower_2s_population_1_year_3"] * 3, common["lower_2s_population_1_year_1"])
