"""Property tests: limits bracket the value, wider confidence gives wider limits, grouped = per group."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from popheal import stats as ps

from ._golden import BANDS

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LEVELS = st.sampled_from([0.9, 0.95, 0.99, 0.998])


@st.composite
def counts(draw, min_groups=1, max_groups=4, rows=3, allow_over=False):
    """A table of (group, x, n) with n > 0 and x <= n unless allow_over."""
    groups = draw(st.integers(min_groups, max_groups))
    records = []
    for g in range(groups):
        for _ in range(rows):
            n = draw(st.integers(1, 50000))
            x = draw(st.integers(0, n * 2 if allow_over else n))
            records.append((f"g{g}", float(x), float(n)))
    return pd.DataFrame(records, columns=["g", "x", "n"])


def _bracket(result, lower="lowercl", upper="uppercl", value="value", tol=1e-9):
    ok = result[value].notna()
    scale = 1 + result.loc[ok, value].abs()
    assert (result.loc[ok, lower] <= result.loc[ok, value] + tol * scale).all()
    assert (result.loc[ok, upper] >= result.loc[ok, value] - tol * scale).all()


def _wider(narrow, wide):
    ok = narrow["value"].notna() & wide["lowercl"].notna() & narrow["lowercl"].notna()
    assert (wide.loc[ok, "lowercl"] <= narrow.loc[ok, "lowercl"] + 1e-9).all()
    assert (wide.loc[ok, "uppercl"] >= narrow.loc[ok, "uppercl"] - 1e-9).all()


def _per_group(function, data, by, **kwargs):
    parts = [function(part, **kwargs).assign(**{by: key}) for key, part in data.groupby(by, sort=True)]
    return pd.concat(parts, ignore_index=True)


def _same(grouped, per_group, columns):
    for column in columns:
        np.testing.assert_allclose(grouped[column].to_numpy(float), per_group[column].to_numpy(float), rtol=1e-12)


@SETTINGS
@given(counts(), LEVELS, LEVELS)
def test_proportion_properties(data, a, b):
    narrow, wide = sorted((a, b))
    result = ps.proportion(data, "x", "n", by="g", confidence=narrow)
    _bracket(result)
    _wider(result, ps.proportion(data, "x", "n", by="g", confidence=wide))
    per_group = _per_group(lambda d: ps.proportion(d.assign(k=1), "x", "n", by="k", confidence=narrow), data, "g")
    _same(result, per_group, ["value", "lowercl", "uppercl"])


@SETTINGS
@given(counts(allow_over=True), LEVELS, LEVELS)
def test_rate_properties(data, a, b):
    narrow, wide = sorted((a, b))
    result = ps.rate(data, "x", "n", by="g", confidence=narrow)
    _bracket(result)
    _wider(result, ps.rate(data, "x", "n", by="g", confidence=wide))
    per_group = _per_group(lambda d: ps.rate(d.assign(k=1), "x", "n", by="k", confidence=narrow), data, "g")
    _same(result, per_group, ["value", "lowercl", "uppercl"])


@st.composite
def banded(draw, groups=3):
    frames = []
    for g in range(draw(st.integers(1, groups))):
        pop = draw(st.lists(st.integers(1, 5000), min_size=19, max_size=19))
        rate = draw(st.floats(0.0005, 0.2))
        x = [draw(st.integers(0, max(0, int(p * rate * 3)))) for p in pop]
        frames.append(pd.DataFrame({"g": f"g{g}", "age_band": BANDS, "n": pop, "x": x}))
    return pd.concat(frames, ignore_index=True).astype({"n": float, "x": float})


@SETTINGS
@given(banded(), LEVELS, LEVELS)
def test_dsr_properties(data, a, b):
    narrow, wide = sorted((a, b))
    result = ps.dsr(data, "x", "n", by="g", confidence=narrow)
    _bracket(result)
    _wider(result, ps.dsr(data, "x", "n", by="g", confidence=wide))
    per_group = _per_group(lambda d: ps.dsr(d, "x", "n", confidence=narrow), data, "g")
    _same(result, per_group, ["total_count", "value", "lowercl", "uppercl"])


@SETTINGS
@given(banded(), LEVELS)
def test_isr_properties(data, level):
    reference = data.groupby("age_band")[["x", "n"]].sum()
    ref_x, ref_n = reference["x"].to_dict(), (reference["n"] + 1).to_dict()
    result = ps.isr(data, "x", "n", ref_x, ref_n, by="g", confidence=level)
    _bracket(result)
    per_group = _per_group(lambda d: ps.isr(d, "x", "n", ref_x, ref_n, confidence=level), data, "g")
    _same(result, per_group, ["observed", "expected", "value", "lowercl", "uppercl"])


@SETTINGS
@given(st.lists(st.floats(-1e4, 1e4), min_size=2, max_size=30), LEVELS, LEVELS)
def test_mean_properties(values, a, b):
    narrow, wide = sorted((a, b))
    data = pd.DataFrame({"v": values})
    result = ps.mean(data, "v", confidence=narrow)
    _bracket(result, tol=1e-7)
    _wider(result, ps.mean(data, "v", confidence=wide))


@SETTINGS
@given(
    st.lists(st.integers(2000, 60000), min_size=20, max_size=20),
    st.floats(0.3, 3.0),
    LEVELS,
)
def test_life_expectancy_brackets(pops, level_of_mortality, level):
    ages = np.asarray([0, 1, *range(5, 95, 5)], dtype=float)
    mx = np.minimum(0.9, level_of_mortality * 0.0002 * np.exp(0.085 * ages))
    deaths = np.maximum(1, np.round(np.asarray(pops) * mx))
    data = pd.DataFrame({"age": ages.astype(int), "pop": pops, "deaths": deaths})
    result = ps.life_expectancy(data, "deaths", "pop", "age", confidence=level)
    _bracket(result)
    assert result["value"].notna().any()


@SETTINGS
@given(st.integers(0, 2**31 - 1), st.integers(2, 3))
def test_grouped_statistics_equal_per_group(seed, groups):
    rng = np.random.default_rng(seed)
    rows = []
    for g in range(groups):
        e = rng.uniform(5, 300, 30)
        rows.append(pd.DataFrame({"g": f"g{g}", "o": rng.poisson(e).astype(float), "e": e,
                                  "value": rng.normal(70, 5, 30)}))  # fmt: skip
    data = pd.concat(rows, ignore_index=True)
    # funnel significance and overdispersion: one funnel per group
    grouped = ps.funnel_significance(data, "o", "e", statistic="ratio", by="g")
    alone = pd.concat([ps.funnel_significance(p, "o", "e", statistic="ratio") for _, p in data.groupby("g")])
    assert grouped["significance"].tolist() == alone.sort_index()["significance"].tolist()
    proportion_data = data.assign(e=np.ceil(data["e"]) + data["o"])
    grouped = ps.funnel_significance(proportion_data, "o", "e", statistic="proportion", by="g")
    alone = pd.concat(
        [ps.funnel_significance(p, "o", "e", statistic="proportion") for _, p in proportion_data.groupby("g")]
    )
    assert grouped["significance"].tolist() == alone.sort_index()["significance"].tolist()
    od = ps.overdispersion(data, "o", "e", by="g")
    od_alone = pd.concat([ps.overdispersion(p, "o", "e") for _, p in data.groupby("g")]).sort_index()
    np.testing.assert_allclose(od["od_ul998"], od_alone["od_ul998"], rtol=1e-12)
    # quantiles and means
    q = ps.quantile(data, "value", by="g", q=5)
    q_alone = pd.concat([ps.quantile(p, "value", q=5) for _, p in data.groupby("g")]).sort_index()
    assert q["quantile"].tolist() == q_alone["quantile"].tolist()
    means = ps.mean(data, "value", by="g")
    means_alone = _per_group(lambda d: ps.mean(d, "value"), data, "g")
    _same(means, means_alone, ["value", "lowercl", "uppercl"])


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**31 - 1), LEVELS, LEVELS)
def test_sii_properties(seed, a, b):
    narrow, wide = sorted((a, b))
    rng = np.random.default_rng(seed)
    frames = []
    for g in range(2):
        frames.append(pd.DataFrame({"g": f"g{g}", "q": range(1, 11), "pop": rng.integers(1000, 9000, 10),
                                    "value": 75 + np.arange(10) * rng.uniform(-1, 1) + rng.normal(0, 1, 10),
                                    "se": rng.uniform(0.5, 2, 10)}))  # fmt: skip
    data = pd.concat(frames, ignore_index=True)
    result = ps.sii(data, "q", "pop", "value", se="se", by="g", confidence=narrow, repetitions=2000, seed=seed)
    _bracket(result, lower="sii_lowercl", upper="sii_uppercl", value="sii")
    wide_result = ps.sii(data, "q", "pop", "value", se="se", by="g", confidence=wide, repetitions=2000, seed=seed)
    assert (wide_result["sii_lowercl"] <= result["sii_lowercl"] + 1e-9).all()
    assert (wide_result["sii_uppercl"] >= result["sii_uppercl"] - 1e-9).all()
    alone = [ps.sii(p, "q", "pop", "value", se="se", repetitions=1000, seed=1)["sii"].iloc[0]
             for _, p in data.groupby("g")]  # fmt: skip
    np.testing.assert_allclose(result["sii"], alone, rtol=1e-12)


@SETTINGS
@given(st.integers(0, 2**31 - 1))
def test_funnel_limits_nest(seed):
    rng = np.random.default_rng(seed)
    den = rng.integers(100, 50000, 40).astype(float)
    data = pd.DataFrame({"num": rng.binomial(den.astype(int), 0.2).astype(float), "den": den})
    result = ps.funnel_limits(data, "num", "den", statistic="proportion")
    assert (result["lower_3s_limit"] <= result["lower_2s_limit"] + 1e-12).all()
    assert (result["lower_2s_limit"] <= result["baseline"] + 1e-12).all()
    assert (result["upper_2s_limit"] >= result["baseline"] - 1e-12).all()
    assert (result["upper_3s_limit"] >= result["upper_2s_limit"] - 1e-12).all()
    assert result["population"].is_monotonic_increasing
