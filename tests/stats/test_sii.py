"""Slope and relative index of inequality (methods-vectors.md section 10): PHEindicatormethods phe_sii."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from popheal.stats import sii

from ._golden import check_columns

LE = pd.DataFrame(
    {
        "decile": range(1, 11),
        "population": [7291, 7997, 6105, 7666, 5790, 6934, 5918, 5974, 7147, 7534],
        "value": [75.93345901, 78.34423827, 83.8360631, 83.63753997, 80.46550315, 81.11567599, 81.69308357,
                  84.19000621, 80.59556411, 86.28943496],
        "lower": [72.72205305, 75.25098022, 80.86972951, 80.15757836, 77.1308786, 78.04999868, 79.01157849,
                  81.44572828, 75.82718517, 83.21905935],
        "upper": [79.14486497, 81.43749633, 86.8023967, 87.11750158, 83.80012771, 84.18135329, 84.37458865,
                  86.93428414, 85.36394305, 89.35981057],
        "se": [1.638472426, 1.578192885, 1.513435506, 1.775490618, 1.701339059, 1.564121074, 1.368114837,
               1.400141801, 2.432846398, 1.56651817],
    }
)  # fmt: skip
RATES = pd.DataFrame(
    {
        "decile": range(1, 11),
        "population": [279012, 255993, 236961, 214315, 192812, 183546, 168593, 164822, 154836, 138165],
        "value": [5.892219689, 4.734504459, 3.827634083, 3.868138021, 3.677157023, 3.143626121, 3.125871181,
                  2.942568346, 2.828799504, 2.764810191],
        "lower": [5.614959662, 4.475920771, 3.586926055, 3.614079114, 3.416696987, 2.897717635, 2.870493809,
                  2.69240413, 2.576305738, 2.501420619],
        "upper": [6.183085358, 5.00795194, 4.084429103, 4.1399823, 3.957393482, 3.410331719, 3.403890987,
                  3.215901572, 3.10596215, 3.055848666],
        "se": [0.02458749781, 0.02865177239, 0.03313428068, 0.03465674222, 0.03747737395, 0.04155259187,
               0.04347834474, 0.04532480152, 0.04769567606, 0.05107105401],
    }
)  # fmt: skip

# The inputs are typed in at 8-10 significant figures, which moves the fitted slope by up to ~1e-9
# relative; the reference's point estimates are therefore compared at 1e-8 here.
POINT = 1e-8
MC = 0.05  # Monte Carlo limits within 5% (the reference's own test tolerance)


def test_section_10_life_expectancy_se_given():
    result = sii(LE, "decile", "population", "value", se="se", rii=True, repetitions=100000, seed=1)
    check_columns(result, {"sii": [6.934616473669], "rii": [1.088818080445]}, rel=POINT)
    check_columns(
        result,
        {"sii_lowercl": [3.127594617651], "sii_uppercl": [10.75868736808],
         "rii_lowercl": [1.038369059164], "rii_uppercl": [1.141299336025]},
        rel=MC,
    )  # fmt: skip
    assert list(result.columns) == ["sii", "sii_lowercl", "sii_uppercl", "rii", "rii_lowercl", "rii_uppercl",
                                    "confidence", "statistic", "method"]  # fmt: skip


def test_section_10_life_expectancy_limits_given():
    result = sii(LE, "decile", "population", "value", lower="lower", upper="upper", rii=True, seed=2)
    check_columns(result, {"sii": [6.934616473669], "rii": [1.088818080445]}, rel=POINT)
    check_columns(result, {"sii_lowercl": [3.127594617651], "sii_uppercl": [10.75868736808]}, rel=MC)


def test_section_10_rate_not_transformed():
    for kwargs in ({"se": "se"}, {"lower": "lower", "upper": "upper"}):
        result = sii(RATES, "decile", "population", "value", value_type=1, rii=True, seed=3, **kwargs)
        check_columns(result, {"sii": [-3.275201232647], "rii": [0.4060006895398]}, rel=POINT)
        check_columns(
            result,
            {"sii_lowercl": [-3.586823301674], "sii_uppercl": [-2.965317001727],
             "rii_lowercl": [0.3688817019907], "rii_uppercl": [0.4462477665245]},
            rel=MC,
        )  # fmt: skip


def _wls(values, population):
    share = np.asarray(population, float) / np.sum(population)
    rank = np.cumsum(share) - share / 2
    fit = sm.WLS(np.asarray(values, float), sm.add_constant(rank), weights=share).fit()
    return fit.params  # intercept, slope


def test_point_estimate_is_population_weighted_least_squares():
    intercept, slope = _wls(LE["value"], LE["population"])
    result = sii(LE, "decile", "population", "value", se="se", rii=True, intercept=True, repetitions=1000, seed=0)
    check_columns(result, {"sii": [slope], "intercept": [intercept], "rii": [(intercept + slope) / intercept]},
                  rel=1e-12)  # fmt: skip


def test_transform_fits_on_the_log_scale_and_transforms_back():
    intercept, slope = _wls(np.log(RATES["value"]), RATES["population"])
    result = sii(RATES, "decile", "population", "value", lower="lower", upper="upper", value_type=1,
                 transform=True, rii=True, intercept=True, repetitions=20000, seed=4)  # fmt: skip
    check_columns(
        result,
        {"sii": [math.exp(intercept + slope) - math.exp(intercept)], "rii": [math.exp(slope)],
         "intercept": [math.exp(intercept)]},
        rel=1e-12,
    )  # fmt: skip
    row = result.iloc[0]
    assert row["sii_lowercl"] < row["sii"] < row["sii_uppercl"]
    assert row["rii_lowercl"] < row["rii"] < row["rii_uppercl"]


def test_negative_multiplier_flips_polarity():
    plain = sii(LE, "decile", "population", "value", se="se", rii=True, repetitions=20000, seed=5)
    flipped = sii(LE, "decile", "population", "value", se="se", rii=True, repetitions=20000, seed=5, multiplier=-1)
    assert flipped["sii"].iloc[0] == pytest.approx(-plain["sii"].iloc[0])
    assert flipped["rii"].iloc[0] == pytest.approx(1 / plain["rii"].iloc[0])
    # same draws, mirrored; the reference's percentile positions differ by one draw between the tails
    assert flipped["sii_lowercl"].iloc[0] == pytest.approx(-plain["sii_uppercl"].iloc[0], rel=1e-3)


def test_two_levels_grouped_and_seeded():
    both = pd.concat([LE.assign(area="A"), LE.assign(area="B", value=LE["value"] + 1)], ignore_index=True)
    first = sii(both, "decile", "population", "value", se="se", by="area", confidence=(0.95, 0.998),
                repetitions=5000, seed=7)  # fmt: skip
    again = sii(both, "decile", "population", "value", se="se", by="area", confidence=(0.95, 0.998),
                repetitions=5000, seed=7)  # fmt: skip
    pd.testing.assert_frame_equal(first, again)
    assert list(first.columns) == ["area", "sii", "sii_lower95_0cl", "sii_upper95_0cl", "sii_lower99_8cl",
                                   "sii_upper99_8cl", "confidence", "statistic", "method"]  # fmt: skip
    assert first["sii"].iloc[0] == pytest.approx(first["sii"].iloc[1], rel=1e-12)  # a shift leaves the slope
    assert (first["sii_lower99_8cl"] < first["sii_lower95_0cl"]).all()


def test_incomplete_or_invalid_group_gives_missing():
    both = pd.concat([LE.assign(area="A"), LE.assign(area="B").iloc[1:]], ignore_index=True)
    result = sii(both, "decile", "population", "value", se="se", by="area", repetitions=1000, seed=1)
    assert result["sii"].notna().tolist() == [True, False]
    zero = LE.assign(population=[0] + LE["population"].tolist()[1:])
    assert sii(zero, "decile", "population", "value", se="se", repetitions=1000)["sii"].isna().all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"se": "se", "repetitions": 10}, "repetitions"),
        ({}, "se column"),
        ({"se": "se", "value_type": 3}, "value_type"),
        ({"se": "se", "transform": True}, "transform"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sii(LE, "decile", "population", "value", **kwargs)


def test_too_few_quantiles_is_an_error():
    with pytest.raises(ValueError, match="between 5 and 100"):
        sii(LE.iloc[:4], "decile", "population", "value", se="se")
