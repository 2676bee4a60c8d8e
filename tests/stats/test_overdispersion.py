"""Overdispersion and adjusted funnel limits (methods-vectors.md section 12): FunnelPlotR."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from popheal.stats import overdispersion, overdispersion_limits, overdispersion_summary

from ._golden import check_columns


def test_section_12a_unadjusted_poisson_limits():
    result = overdispersion_limits([15, 20, 30])
    check_columns(result, {"ll95": [0.5596924, 0.6108260, 0.6746958],
                           "ll998": [0.3862650, 0.4479107, 0.5289724]}, rel=0, abs_tol=5e-8)  # fmt: skip
    check_columns(result, {"ul95": [1.649348, 1.544419, 1.427562],
                           "ul998": [2.082907, 1.902094, 1.702771]}, rel=0, abs_tol=5e-7)  # fmt: skip


def test_section_12b_aggregation_by_unit():
    data = pd.DataFrame({"unit": list("aaabbc"), "o": [100, 150, 180, 89, 120, 225],
                         "e": [102, 135, 165, 95, 100, 220]})  # fmt: skip
    result = overdispersion(data, "o", "e", group="unit")
    assert list(result["unit"]) == ["a", "b", "c"]
    check_columns(result, {"o": [430, 209, 225], "e": [402, 195, 220]}, rel=0)
    check_columns(result, {"ratio": [1.069652, 1.071795, 1.022727]}, rel=0, abs_tol=5e-7)


def _units(seed=5, n=120, spread=0.15):
    rng = np.random.default_rng(seed)
    expected = rng.uniform(20, 400, n)
    observed = rng.poisson(expected * rng.lognormal(0, spread, n)).astype(float)
    return pd.DataFrame({"unit": [f"U{i:03d}" for i in range(n)], "o": observed, "e": expected})


def test_shmi_phi_and_tau2_by_hand():
    data = _units()
    result = overdispersion(data, "o", "e", method="SHMI")
    o, e = data["o"].to_numpy(), data["e"].to_numpy()
    z = np.sqrt(e) * np.log(o / e)
    # truncate the lowest and highest tenth of the ranked z-scores (NHS Digital SHMI)
    rank = pd.Series(z).rank().to_numpy()
    band = np.floor(rank * 10 / (len(z) + 1))
    keep = (band > 0) & (band < 9)
    phi = np.mean(z[keep] ** 2)
    w = e[keep]  # 1 / s^2 with s = 1 / sqrt(E)
    tau2 = max(0.0, (keep.sum() * phi - (keep.sum() - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    assert math.isclose(result.attrs["phi"], phi, rel_tol=1e-12)
    assert math.isclose(result.attrs["tau2"], tau2, rel_tol=1e-12)
    assert tau2 > 0
    check_columns(result, {"z": list(z)}, rel=1e-12)
    z998 = 3.090232306167813
    check_columns(result, {"od_ul998": list(np.exp(z998 * np.sqrt(1 / e + tau2)))}, rel=1e-12)
    summary = overdispersion_summary(result)
    assert summary.loc[0, ["n", "n_used"]].tolist() == [120, keep.sum()]
    assert summary.loc[0, "method"] == "SHMI"


def test_cqc_winsorised_phi_by_hand():
    data = _units(seed=6)
    result = overdispersion(data, "o", "e", method="CQC")
    o, e = data["o"].to_numpy(), data["e"].to_numpy()
    z = (np.sqrt(o / e) - 1) * 2 * np.sqrt(e)
    low, high = np.quantile(z, [0.1, 0.9])  # R's default (type 7) quantiles
    phi = np.mean(np.clip(z, low, high) ** 2)
    w = 4 * e
    tau2 = max(0.0, (len(z) * phi - (len(z) - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    assert math.isclose(result.attrs["phi"], phi, rel_tol=1e-12)
    assert math.isclose(result.attrs["tau2"], tau2, rel_tol=1e-12)
    spread = np.sqrt(1 / (4 * e) + tau2)
    check_columns(result, {"od_ll95": list((1 - 1.959963984540054 * spread) ** 2)}, rel=1e-12)


@pytest.mark.parametrize("method", ["SHMI", "CQC"])
def test_flags_follow_the_limits_and_planted_outliers_are_found(method):
    planted = [3, 50, 120]
    poisson = _units(seed=7, n=200, spread=0.0)
    poisson.loc[planted, "o"] = poisson.loc[planted, "e"] * 2.5
    result = overdispersion(poisson, "o", "e", method=method)
    assert result.index[result["od_outlier_998"]].tolist() == planted  # and no others
    spread = _units(seed=7, n=200, spread=0.1)
    spread.loc[planted, "o"] = spread.loc[planted, "e"] * 2.5
    result = overdispersion(spread, "o", "e", method=method)
    outside = (result["ratio"] < result["od_ll998"]) | (result["ratio"] > result["od_ul998"])
    assert result["od_outlier_998"].tolist() == outside.tolist()
    assert result.loc[planted, "od_outlier_998"].all()
    assert result.attrs["tau2"] > 0
    assert result["od_outlier_998"].sum() < result["outlier_998"].sum()


def test_no_overdispersion_uses_the_unadjusted_limits():
    rng = np.random.default_rng(8)
    e = rng.uniform(50, 100, 60)
    data = pd.DataFrame({"o": np.round(e), "e": e})  # far less spread than Poisson
    result = overdispersion(data, "o", "e")
    assert result.attrs["tau2"] == 0
    for name in ("ll95", "ul95", "ll998", "ul998"):
        assert np.array_equal(result[name], result["od_" + name])


def test_by_gives_one_funnel_per_group():
    a, b = _units(seed=9), _units(seed=10, spread=0.3)
    both = pd.concat([a.assign(ind="a"), b.assign(ind="b")], ignore_index=True)
    result = overdispersion(both, "o", "e", by="ind")
    alone = overdispersion(b, "o", "e")
    assert math.isclose(result.attrs["tau2"]["b"], alone.attrs["tau2"], rel_tol=1e-12)
    assert np.allclose(result.loc[result["ind"] == "b", "od_ul95"], alone["od_ul95"], rtol=1e-12)
    assert list(overdispersion_summary(result)["ind"]) == ["a", "b"]


def test_zero_expected_gives_missing_row():
    data = _units().head(20)
    data.loc[0, "e"] = 0
    result = overdispersion(data, "o", "e")
    assert pd.isna(result.loc[0, "ratio"]) and pd.isna(result.loc[0, "od_outlier_95"])
    assert result.loc[1:, "ratio"].notna().all()


@pytest.mark.parametrize(("kwargs", "message"), [({"method": "X"}, "method"), ({"trim": 0.6}, "trim")])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        overdispersion(_units(), "o", "e", **kwargs)
