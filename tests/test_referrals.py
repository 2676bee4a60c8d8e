"""popheal.referrals: standardised referral ratios, funnel significance, the variation model, shares,
findings, monthly series, PCN activity rates, and their charts.

Values are checked against hand-computed examples (in comments) and against known generating models
(simulated areas with planted practice effects).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from popheal import stats as pstats
from popheal.io.activity import read_pcn_activity
from popheal.io.errors import InputError
from popheal.io.registrations import AGE_BANDS
from popheal.plots.funnel import proportion_funnel, rate_funnel, ratio_funnel
from popheal.plots.spc import xmr_chart, xmr_grid
from popheal.referrals import (
    activity_rates,
    findings,
    monthly_counts,
    shares,
    social_prescribing_capacity,
    spc,
    to_indicators,
    variation,
    variation_model,
)

# --------------------------------------------------------------------------------------------------------------
# Tiny hand example: 2 practices x 2 age bands x 2 sexes.
#
#   registered list              referrals (1 year)
#   practice sex band  pop       practice sex band  n
#   A        F   0-4   100       A        F   0-4   10
#   A        M   0-4   100       A        M   0-4    5
#   A        F   5-9    50       A        F   5-9    5
#   A        M   5-9   150       A        M   5-9   15
#   B        F   0-4   300       B        F   0-4   20
#   B        M   0-4   100       B        M   0-4    5
#   B        F   5-9   150       B        F   5-9   10
#   B        M   5-9    50       B        M   5-9    5
#
# Area rates: F 0-4 30/400 = 0.075; M 0-4 10/200 = 0.05; F 5-9 15/200 = 0.075; M 5-9 20/200 = 0.1.
# E_A = 100(.075) + 100(.05) + 50(.075) + 150(.1) = 7.5 + 5 + 3.75 + 15 = 31.25; O_A = 35; ratio 1.12.
# E_B = 300(.075) + 100(.05) + 150(.075) + 50(.1) = 22.5 + 5 + 11.25 + 5 = 43.75; O_B = 40; ratio 0.9142857.
# Crude rates per 1,000 per year: A 35 / 400 = 87.5; B 40 / 600 = 66.67.
# --------------------------------------------------------------------------------------------------------------

HAND_POPULATION = pd.DataFrame({
    "practice_code": ["A"] * 4 + ["B"] * 4,
    "sex": ["F", "M", "F", "M"] * 2,
    "age_band": ["0-4", "0-4", "5-9", "5-9"] * 2,
    "population": [100, 100, 50, 150, 300, 100, 150, 50],
})
HAND_COUNTS = {("A", "F", 2): 10, ("A", "M", 2): 5, ("A", "F", 7): 5, ("A", "M", 7): 15,
               ("B", "F", 2): 20, ("B", "M", 2): 5, ("B", "F", 7): 10, ("B", "M", 7): 5}


def hand_referrals(extra: list[tuple] = ()) -> pd.DataFrame:
    rows = [key for key, n in HAND_COUNTS.items() for _ in range(n)] + list(extra)
    df = pd.DataFrame(rows, columns=["practice_code", "patient_sex", "patient_age"])
    # spread over the 12 months of 2019 (whole months first to last: 1 year)
    df["referral_date"] = pd.Timestamp("2019-01-15") + pd.to_timedelta(np.arange(len(df)) % 12 * 30, unit="D")
    return df


def test_hand_example_expected_and_ratios():
    result = variation(hand_referrals(), HAND_POPULATION)
    by = result.set_index("practice_code")
    assert by["observed"].to_dict() == {"A": 35, "B": 40}
    assert by.loc["A", "expected"] == pytest.approx(31.25, rel=1e-12)
    assert by.loc["B", "expected"] == pytest.approx(43.75, rel=1e-12)
    assert by.loc["A", "ratio"] == pytest.approx(1.12, rel=1e-12)
    assert by.loc["B", "ratio"] == pytest.approx(40 / 43.75, rel=1e-12)
    assert by.loc["A", "crude_rate_per_1000"] == pytest.approx(87.5)
    assert by.loc["B", "crude_rate_per_1000"] == pytest.approx(40 / 600 * 1000)
    assert result.attrs["years"] == 1.0
    # Byar's limits on O (O >= 10), divided by E (PHEindicatormethods calculate_ISRatio)
    z = 1.959963984540054
    lower = 35 * (1 - 1 / (9 * 35) - z / (3 * np.sqrt(35))) ** 3 / 31.25
    upper = 36 * (1 - 1 / (9 * 36) + z / (3 * np.sqrt(36))) ** 3 / 31.25
    assert by.loc["A", "lowercl"] == pytest.approx(lower, rel=1e-10)
    assert by.loc["A", "uppercl"] == pytest.approx(upper, rel=1e-10)
    assert by.loc["A", "lower95_0cl"] == by.loc["A", "lowercl"]
    assert {"lower99_8cl", "upper99_8cl", "significance", "significance_adjusted"} <= set(result.columns)
    assert list(result.columns[:6]) == ["practice_code", "observed", "expected", "ratio", "lowercl", "uppercl"]
    assert result["confidence"].iloc[0] == "95%, 99.8%"


def test_unknown_sex_counted_in_observed_and_shared_out_for_expected():
    # One "U" referral aged 3 at practice A. Band 0-4 has 40 known-sex referrals (F 30, M 10): the U referral is
    # shared F 30/40, M 10/40, so the 0-4 rates become F 30.75/400 = 0.076875 and M 10.25/200 = 0.05125.
    # E_A = 100(.076875) + 100(.05125) + 3.75 + 15 = 31.5625; E_B = 300(.076875) + 100(.05125) + 11.25 + 5
    # = 44.4375; E_A + E_B = 76 = O_A + O_B (36 + 40).
    result = variation(hand_referrals([("A", "U", 3)]), HAND_POPULATION, confidence=0.95)
    by = result.set_index("practice_code")
    assert by["observed"].to_dict() == {"A": 36, "B": 40}
    assert by.loc["A", "expected"] == pytest.approx(31.5625, rel=1e-12)
    assert by.loc["B", "expected"] == pytest.approx(44.4375, rel=1e-12)
    assert result.attrs["unknown_stratum_referrals"] == 1
    assert "lower95_0cl" not in result.columns  # one level: lowercl/uppercl only


def test_crude_expected_and_age_only_standardisation():
    crude = variation(hand_referrals(), HAND_POPULATION, standardise=())
    # area rate 75 / 1000; E_A = 400 x 0.075 = 30
    assert crude.set_index("practice_code").loc["A", "expected"] == pytest.approx(30.0)
    pop_age = HAND_POPULATION.groupby(["practice_code", "age_band"], as_index=False)["population"].sum()
    age = variation(hand_referrals(), pop_age, standardise=("age_band",))
    # 0-4: 40/600; 5-9: 35/400. E_A = 200(40/600) + 200(35/400) = 13.333 + 17.5 = 30.8333
    assert age.set_index("practice_code").loc["A", "expected"] == pytest.approx(200 * 40 / 600 + 200 * 35 / 400)


def test_practices_missing_from_the_list_are_reported_and_left_out():
    refs = hand_referrals([("Z99", "F", 30)] * 3)
    result = variation(refs, HAND_POPULATION)
    assert set(result["practice_code"]) == {"A", "B"}
    assert result.attrs["unmatched_referrals"] == 3
    assert result.attrs["unmatched_units"] == [{"practice_code": "Z99"}]


@pytest.mark.parametrize(("column", "value", "rule"), [
    ("patient_sex", "X", 'patient_sex must be "F", "M" or "U"'),
    ("patient_age", 130, "between 0 and 120"),
])
def test_bad_referrals_raise_input_error(column, value, rule):
    refs = hand_referrals()
    refs.loc[3, column] = value
    with pytest.raises(InputError, match=rule) as info:
        variation(refs, HAND_POPULATION)
    assert info.value.column == column and info.value.rows == [3]


def test_bad_population_raises_input_error():
    bad = HAND_POPULATION.assign(sex=["F", "M", "F", "U"] * 2)
    with pytest.raises(InputError, match='sex must be "F" or "M"'):
        variation(hand_referrals(), bad)
    with pytest.raises(InputError, match="needs column"):
        variation(hand_referrals(), HAND_POPULATION.drop(columns="age_band"))
    with pytest.raises(InputError, match="repeated"):
        variation(hand_referrals(), pd.concat([HAND_POPULATION, HAND_POPULATION.head(1)]))


# --------------------------------------------------------------------------------------------------------------
# Simulated areas: known generating model.
# Practice p, sex s, band b: list n_psb from a common age structure tilted per practice; referrals ~
# Poisson(n_psb x rate_b x sex_s x years x effect_p), effect_p = 1 for practices drawn from the common rate.
# --------------------------------------------------------------------------------------------------------------

BAND_SHARE = np.array([6, 6, 6, 6, 7, 8, 8, 7, 7, 7, 7, 6, 5, 5, 4, 3, 2, 1.2, 0.8]) / 108.0
AGE_RATE = np.linspace(0.08, 0.45, 19)  # referrals per person-year by band
SEX_RATE = np.array([1.2, 1.0])  # F, M


def simulate_area(rng, n_practices=40, years=2, effects=None, list_range=(3000, 12000), rate_scale=1.0,
                  deprivation=None, dep_beta=0.0, sigma=0.0, specialties=("Dermatology", "Cardiology", "ENT"),
                  rows=True):
    """Registered list and referral extract for one area (see the comment above)."""
    codes = np.array([f"P{i:03d}" for i in range(n_practices)])
    lists = rng.integers(*list_range, size=n_practices)
    if deprivation is None:
        tilt = rng.normal(0, 0.3, n_practices)
    else:  # deprived practices are younger, as in Wolverhampton
        tilt = -(deprivation - deprivation.mean()) / deprivation.std() * 0.3
    shares_ = BAND_SHARE[None, :] * np.exp(tilt[:, None] * np.linspace(-1, 1, 19)[None, :])
    shares_ /= shares_.sum(1, keepdims=True)
    pop = np.round(lists[:, None, None] * shares_[:, None, :] * np.full((1, 2, 1), 0.5))  # practice x sex x band
    effect = np.ones(n_practices)
    if deprivation is not None:
        effect *= np.exp(dep_beta * (deprivation - deprivation.mean()) / deprivation.std(ddof=1))
    if sigma:
        effect *= np.exp(rng.normal(0, sigma, n_practices))
    for i, e in (effects or {}).items():
        effect[i] *= e
    lam = pop * SEX_RATE[None, :, None] * AGE_RATE[None, None, :] * years * rate_scale * effect[:, None, None]
    counts = rng.poisson(lam)
    P, S, B = np.meshgrid(np.arange(n_practices), np.arange(2), np.arange(19), indexing="ij")
    population = pd.DataFrame({"practice_code": codes[P.ravel()], "sex": np.array(["F", "M"])[S.ravel()],
                               "age_band": np.array(AGE_BANDS)[B.ravel()], "population": pop.ravel().astype(int)})
    idx = np.repeat(np.arange(counts.size), counts.ravel())
    m = idx.size
    referrals = pd.DataFrame({
        "referral_id": np.arange(m),
        "practice_code": codes[P.ravel()[idx]],
        "patient_age": B.ravel()[idx] * 5 + rng.integers(0, 5, m),
        "patient_sex": np.array(["F", "M"])[S.ravel()[idx]],
        "referral_date": np.datetime64("2019-04-01") + rng.integers(0, int(365 * years), m).astype("timedelta64[D]"),
        "specialty": rng.choice(list(specialties), m),
        "priority": rng.choice(["routine", "urgent", "two-week-wait"], m, p=[0.7, 0.2, 0.1]),
        "route": rng.choice(["referral", "advice-and-guidance"], m, p=[0.9, 0.1]),
        "provider_code": "RL4",
        "out_of_area": rng.random(m) < 0.1,
    })
    return referrals, population


@pytest.fixture(scope="module")
def area():
    """40 practices, modest extra-Poisson variation, practice P003 planted at 1.5x and P005 at 0.7x."""
    rng = np.random.default_rng(20190501)
    return simulate_area(rng, sigma=0.05, effects={3: 1.5, 5: 0.7})


def test_planted_excess_is_flagged_after_adjustment(area):
    referrals, population = area
    result = variation(referrals, population).set_index("practice_code")
    assert result.loc["P003", "significance_adjusted"] == "High (0.001)"
    assert result.loc["P005", "significance_adjusted"] == "Low (0.001)"
    assert result.loc["P003", "ratio"] == pytest.approx(1.5, rel=0.1)
    assert result.attrs["phi"] > 1 and result.attrs["tau2"] > 0
    # the adjusted limits are wider, so fewer practices are flagged after adjustment
    flagged = result["significance"].str.endswith("(0.001)").sum()
    flagged_adjusted = result["significance_adjusted"].str.endswith("(0.001)").sum()
    assert flagged_adjusted <= flagged
    assert (result["od_ul998"] > result["upper99_8cl"] * 0 + 1).all()


def test_planted_excess_flagged_in_repeated_areas():
    rng = np.random.default_rng(7)
    for _ in range(5):
        referrals, population = simulate_area(rng, n_practices=40, years=1, list_range=(2000, 6000),
                                              sigma=0.05, effects={0: 1.5})
        result = variation(referrals, population, years=1)
        assert result.loc[result["practice_code"] == "P000", "significance_adjusted"].item() == "High (0.001)"


def test_false_positive_rate_matches_the_limits():
    """200 simulated areas of 40 practices, all drawn from the common rate: the 99.8% limits should flag about
    0.2% of practices (0.1% each side) and the 95% limits about 5%. Measured with this seed: 0.21% unadjusted,
    0.19% adjusted at 99.8%; 4.4% unadjusted at 95%."""
    rng = np.random.default_rng(2024)
    flags998 = flags998_adj = flags95 = n = 0
    for _ in range(200):
        referrals, population = simulate_area(rng, list_range=(1000, 4000), years=1, rate_scale=0.5,
                                              specialties=("X",))
        result = variation(referrals, population, years=1)
        flags998 += result["significance"].str.endswith("(0.001)").sum()
        flags998_adj += result["significance_adjusted"].str.endswith("(0.001)").sum()
        flags95 += (result["significance"] != "Not significant").sum()
        n += len(result)
    assert n == 8000
    assert 0.0003 <= flags998 / n <= 0.005
    assert flags998_adj / n <= 0.005
    assert 0.03 <= flags95 / n <= 0.065


def test_breakdown_by_specialty_and_priority(area):
    referrals, population = area
    each = variation(referrals, population, specialty=True)
    assert len(each) == 40 * 3 and list(each.columns[:2]) == ["practice_code", "specialty"]
    assert set(each.attrs["phi"]) == {"Cardiology", "Dermatology", "ENT"}
    # each specialty standardised against its own area rates: expected sums to observed within specialty
    sums = each.groupby("specialty")[["observed", "expected"]].sum()
    np.testing.assert_allclose(sums["observed"], sums["expected"], rtol=1e-9)
    one = variation(referrals, population, specialty="Dermatology")
    assert set(one["specialty"]) == {"Dermatology"}
    pd.testing.assert_series_equal(
        one["expected"].reset_index(drop=True),
        each[each["specialty"] == "Dermatology"]["expected"].reset_index(drop=True))
    two = variation(referrals, population, specialty=["ENT", "Cardiology"], priority="urgent")
    assert len(two) == 80 and set(two["priority"]) == {"urgent"}
    with pytest.raises(InputError, match="no referrals with specialty"):
        variation(referrals, population, specialty="Podiatry")


def test_to_indicators_shape(area):
    referrals, population = area
    result = variation(referrals, population, specialty="ENT")
    ind = to_indicators(result, indicator="ENT referrals", period="2019-21", area_names={"P003": "Oak Surgery"})
    assert list(ind.columns) == [
        "indicator", "area_type", "area_code", "area_name", "period", "breakdown", "group", "numerator",
        "denominator", "value", "lowercl", "uppercl", "confidence", "statistic", "method", "significance",
        "significance_adjusted"]
    row = ind.set_index("area_code").loc["P003"]
    assert row["area_name"] == "Oak Surgery" and row["group"] == "ENT" and row["breakdown"] == "specialty"
    assert row["confidence"] == "95%" and row["area_type"] == "practice"
    assert ind.set_index("area_code").loc["P001", "area_name"] == "P001"
    np.testing.assert_allclose(ind["value"], result["ratio"])


def test_variation_at_scale_is_vectorised():
    """6,500 practices (England) in one call: expected sums to observed and it runs in seconds."""
    rng = np.random.default_rng(3)
    referrals, population = simulate_area(rng, n_practices=6500, years=1, list_range=(2000, 12000),
                                          rate_scale=0.02, specialties=("X",))
    result = variation(referrals, population, years=1)
    assert len(result) == 6500
    assert result["expected"].sum() == pytest.approx(result["observed"].sum(), rel=1e-9)


# --------------------------------------------------------------------------------------------------------------
# Variation model
# --------------------------------------------------------------------------------------------------------------

def test_variation_model_deprivation_explains_the_variation():
    rng = np.random.default_rng(11)
    dep = rng.normal(30, 12, 150)
    referrals, population = simulate_area(rng, n_practices=150, years=1, list_range=(3000, 9000),
                                          deprivation=dep, dep_beta=0.2, specialties=("X",))
    table = pd.DataFrame({"practice_code": [f"P{i:03d}" for i in range(150)], "imd_score": dep})
    model = variation_model(referrals, population, table)
    v = model.variation.set_index("stage")
    assert list(v.index) == ["list size only", "age and sex", "age, sex and deprivation"]
    # all the true between-practice variation is deprivation: little is left after case-mix
    assert v.loc["age, sex and deprivation", "variance_explained"] > 90
    assert v.loc["age, sex and deprivation", "scv_explained"] > 90
    assert v.loc["age, sex and deprivation", "mrr"] < 1.03
    dep_row = model.coefficients.set_index("term").loc["deprivation"]
    assert dep_row["lowercl"] < np.exp(0.2) < dep_row["uppercl"]
    assert model.practices["expected_case_mix"].sum() == pytest.approx(model.practices["observed"].sum())
    assert "median rate ratio" in model.summary()


def test_variation_model_recovers_residual_practice_variance():
    # no deprivation effect; practice effects lognormal with sigma 0.15: var(log) = 0.0225, MRR = 1.154
    rng = np.random.default_rng(12)
    dep = rng.normal(30, 12, 300)
    referrals, population = simulate_area(rng, n_practices=300, years=1, list_range=(3000, 9000),
                                          deprivation=dep, dep_beta=0.0, sigma=0.15, specialties=("X",))
    table = pd.DataFrame({"practice_code": [f"P{i:03d}" for i in range(300)], "imd": dep})
    model = variation_model(referrals, population, table)
    full = model.variation.set_index("stage").loc["age, sex and deprivation"]
    assert 0.015 < full["variance_log_rate"] < 0.032
    assert full["mrr"] == pytest.approx(np.exp(np.sqrt(2 * 0.0225) * 0.6745), abs=0.04)
    dep_row = model.coefficients.set_index("term").loc["deprivation"]
    assert dep_row["lowercl"] < 1 < dep_row["uppercl"]
    # empirical Bayes ratios are pulled towards 1
    p = model.practices
    assert (np.abs(np.log(p["shrunken_ratio"])) <= np.abs(np.log(p["ratio"])) + 1e-9).mean() > 0.95


def test_variation_model_reports_practices_without_deprivation(area):
    referrals, population = area
    table = pd.DataFrame({"practice_code": [f"P{i:03d}" for i in range(38)], "core20_share": np.linspace(0, 1, 38)})
    model = variation_model(referrals, population, table)
    assert model.excluded["practices_without_deprivation"] == ["P038", "P039"]
    assert len(model.practices) == 38 and model.deprivation_column == "core20_share"


# --------------------------------------------------------------------------------------------------------------
# Shares, findings, monthly series
# --------------------------------------------------------------------------------------------------------------

def test_shares_with_wilson_limits_hand_example():
    # Practice A: 100 referrals, 65 out of area, plus 20 advice-and-guidance requests (10 "out of area", which
    # are not counted: a request moves no patient). Wilson 95% for 65/100: 0.5525444329689, 0.736357517569
    # (PHEindicatormethods testdata_Byars_Wilson). Practice B: 50 referrals, 5 out of area.
    # A&G share A: 20 / 120 = 16.67%.
    rows = ([("A", "referral", True)] * 65 + [("A", "referral", False)] * 35
            + [("A", "advice-and-guidance", True)] * 10 + [("A", "advice-and-guidance", False)] * 10
            + [("B", "referral", True)] * 5 + [("B", "referral", False)] * 45)
    refs = pd.DataFrame(rows, columns=["practice_code", "route", "out_of_area"])
    ooa = shares(refs, what="out_of_area").set_index("practice_code")
    assert ooa.loc["A", ["numerator", "denominator"]].tolist() == [65, 100]
    assert ooa.loc["A", "value"] == pytest.approx(65.0)
    assert ooa.loc["A", "lowercl"] == pytest.approx(55.25444329689, rel=1e-10)
    assert ooa.loc["A", "uppercl"] == pytest.approx(73.6357517569, rel=1e-10)
    assert ooa.loc["A", "method"] == "Wilson" and ooa.loc["A", "measure"] == "out_of_area"
    assert ooa.loc["A", "significance"].startswith("High")  # 65% against the area's 70/150
    ag = shares(refs, what="advice_and_guidance", multiplier=1).set_index("practice_code")
    assert ag.loc["A", "value"] == pytest.approx(20 / 120) and ag.loc["B", "numerator"] == 0


def test_shares_by_specialty(area):
    referrals, _ = area
    by_spec = shares(referrals, by=("practice_code", "specialty"), what="out_of_area")
    assert len(by_spec) == 120 and by_spec["significance"].notna().all()
    with pytest.raises(ValueError, match="what must be one of"):
        shares(referrals, what="urgent")


NAMES = {f"P{i:03d}": f"Surgery {i}" for i in range(7)}  # the PCN's own practices: P000-P006


def test_findings_for_a_planted_outlier(area):
    referrals, population = area
    result = variation(referrals, population)
    text = findings(result, names=NAMES)
    assert text[0].startswith("Surgery 3 referred ") and "% more than expected" in text[0]
    assert text[0].endswith("above the upper 99.8% limit after allowing for overdispersion.")
    assert any(s.startswith("Surgery 5 referred ") and "fewer than expected" in s for s in text)
    ratio = result.set_index("practice_code").loc["P003", "ratio"]
    assert f"{round((ratio - 1) * 100):.0f}% more" in text[0]
    # only the PCN's own practices are described
    others = findings(result, names={"P010": "Elm Surgery", "P011": "Ash Surgery"})
    assert others[0] == "No practice in this PCN is outside the 99.8% limits after allowing for overdispersion."
    assert not any("P0" in s for s in text + others)


def test_findings_leave_out_small_counts_and_say_when_unadjusted(area):
    referrals, population = area
    result = variation(referrals, population, overdispersion=False, confidence=95)
    assert result["significance_adjusted"].isna().all() and result["confidence"].iloc[0] == "95%"
    text = findings(result, names=NAMES)
    assert "after allowing" not in " ".join(text) and text[0].endswith("above the upper 99.8% limit.")
    small = result.copy()
    small.loc[small["practice_code"] == "P003", "observed"] = 6
    assert not any(s.startswith("Surgery 3 ") for s in findings(small, names=NAMES))


def test_findings_by_specialty():
    rng = np.random.default_rng(5)
    referrals, population = simulate_area(rng, years=1, sigma=0.03, specialties=("Dermatology", "ENT"))
    derm = referrals["specialty"] == "Dermatology"
    extra = referrals[derm & (referrals["practice_code"] == "P002")].sample(frac=0.4, random_state=1)
    referrals = pd.concat([referrals, extra.assign(referral_id=extra["referral_id"] + 10**7)], ignore_index=True)
    result = variation(referrals, population, specialty=True)
    text = findings(result, names=NAMES, specialty="Dermatology", limit=2)
    assert text[0].startswith("Surgery 2 referred ") and "than expected to dermatology; above" in text[0]
    assert len(text) <= 3


def test_monthly_counts_zero_fill():
    refs = pd.DataFrame({
        "practice_code": ["A", "A", "A", "B"],
        "referral_date": pd.to_datetime(["2019-01-03", "2019-01-20", "2019-03-05", "2019-04-30"]),
    })
    out = monthly_counts(refs, units=["C"])
    assert list(out.columns) == ["practice_code", "month", "referrals"]
    a = out[out["practice_code"] == "A"]
    assert a["referrals"].tolist() == [2, 0, 1, 0]
    assert a["month"].tolist() == list(pd.date_range("2019-01-01", periods=4, freq="MS"))
    assert out[out["practice_code"] == "B"]["referrals"].tolist() == [0, 0, 0, 1]
    assert out[out["practice_code"] == "C"]["referrals"].tolist() == [0, 0, 0, 0]
    area_total = monthly_counts(refs, by=None, start="2018-12", end="2019-05")
    assert area_total["referrals"].tolist() == [0, 2, 0, 1, 1, 0]


def test_spc_uses_the_xmr_rules(area):
    referrals, _ = area
    monthly = monthly_counts(referrals[referrals["practice_code"].isin(["P000", "P001"])])
    charts = spc(monthly)
    assert len(charts) == 48 and {"mean", "lpl", "upl", "special_cause", "rule", "direction"} <= set(charts.columns)
    one = monthly[monthly["practice_code"] == "P001"]["referrals"].reset_index(drop=True)
    expected = pstats.xmr(one)
    got = charts[charts["practice_code"] == "P001"].reset_index(drop=True)
    np.testing.assert_allclose(got["upl"], expected["upl"])
    assert got["rule"].tolist() == expected["rule"].tolist()


# --------------------------------------------------------------------------------------------------------------
# PCN activity (real data, Wolverhampton Q3 2019/20)
# --------------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def activity():
    return read_pcn_activity()


def test_social_prescribing_rates_per_1000(activity):
    rates = activity_rates(activity).set_index("area_code")
    # WTH: 25 + 34 + 20 = 79 referrals in the quarter / 56,321 patients x 1,000 = 1.4027
    assert rates.loc["WTH", "numerator"] == 79 and rates.loc["WTH", "denominator"] == 56_321
    assert rates.loc["WTH", "value"] == pytest.approx(79 / 56_321 * 1000)
    # the area rate is 213 / 292,418 = 0.728 per 1,000: WTH is far above it, Unity West below
    assert rates.loc["WTH", "significance"] == "High (0.001)"
    assert rates.loc["Unity West", "significance"].startswith("Low")
    assert (rates["area_type"] == "pcn").all() and rates["statistic"].iloc[0] == "rate per 1000"
    basket = activity_rates(activity, "basket_services")
    assert len(basket) == 84 and basket["significance"].notna().all()
    ag = activity_rates(activity, "advice_guidance", multiplier=100_000)
    assert ag["numerator"].sum() == 113 and (ag["area_type"] == "area").all()


def test_social_prescribing_capacity(activity):
    cap = social_prescribing_capacity(activity)
    wth = cap[cap["pcn_short_name"] == "WTH"]
    assert wth["percent_of_capacity"].round(1).tolist() == [125.0, 170.0, 100.0, 131.7]


# --------------------------------------------------------------------------------------------------------------
# Charts: the PCN's own practices labelled, others unnamed grey points
# --------------------------------------------------------------------------------------------------------------

def _texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts] + [t.get_text() for t in fig.texts]


def test_ratio_funnel_labels_only_own_practices(area):
    referrals, population = area
    result = variation(referrals, population)
    fig = ratio_funnel(result, highlight=list(NAMES), labels=NAMES)
    texts = _texts(fig)
    assert set(NAMES.values()) <= set(texts)
    assert not any(f"P{i:03d}" in t for t in texts for i in range(7, 40))
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "99.8% limits allowing for overdispersion" in legend and "Other practices (unnamed)" in legend
    plt.close(fig)


def test_ratio_funnel_leaves_out_small_counts():
    small = variation(hand_referrals(), HAND_POPULATION)
    small.loc[0, "observed"] = 5
    fig = ratio_funnel(small, highlight=["A", "B"])
    assert "1 unit(s) with a small count not shown." in _texts(fig)
    assert "A" not in _texts(fig)
    plt.close(fig)


def test_other_charts_draw(area, activity):
    referrals, _ = area
    figs = [proportion_funnel(shares(referrals), highlight=list(NAMES), labels=NAMES),
            rate_funnel(activity_rates(activity))]
    charts = spc(monthly_counts(referrals[referrals["practice_code"].isin(list(NAMES))]))
    figs.append(xmr_chart(charts[charts["practice_code"] == "P003"], title="Surgery 3"))
    figs.append(xmr_grid(charts, labels=NAMES))
    assert "Wolverhampton Total Health" in _texts(figs[1])
    assert any(t.startswith(("Common cause", "Special cause")) for t in _texts(figs[2]))
    with pytest.raises(ValueError, match="several series"):
        xmr_chart(charts)
    for fig in figs:
        plt.close(fig)


# --------------------------------------------------------------------------------------------------------------
# The demo area (popheal.synth): the planted practices are found, and few others
# --------------------------------------------------------------------------------------------------------------

def test_demo_area_planted_outliers_are_found(tmp_path, project_root):
    import datetime as dt

    synth = pytest.importorskip("popheal.synth.generate")
    from popheal.io import read_registrations_5y

    demo = synth.synthetic_area(project_root / "params" / "wolverhampton.yaml")
    referrals = demo.referrals(dt.date(2019, 4, 1), dt.date(2021, 3, 31))
    synth.registrations_table(demo, dt.date(2019, 4, 1)).to_csv(tmp_path / "reg.csv", index=False)
    population = read_registrations_5y(tmp_path / "reg.csv")
    truth = demo.practice_truth().set_index("practice_code")

    result = variation(referrals[referrals["route"] == "referral"], population).set_index("practice_code")
    flagged = result[result["significance_adjusted"].str.endswith("(0.001)")]
    planted = truth["planted_multiplier"].dropna()
    assert len(planted) >= 2
    for code, multiplier in planted.items():
        assert flagged.loc[code, "significance_adjusted"] == ("High (0.001)" if multiplier > 1 else "Low (0.001)")
    assert len(flagged.index.difference(planted.index)) <= 2

    derm = variation(referrals[referrals["route"] == "referral"], population, specialty="Dermatology")
    for code in truth.index[truth["planted_specialty"] == "Dermatology"]:
        assert derm.set_index("practice_code").loc[code, "significance_adjusted"] == "High (0.001)"
