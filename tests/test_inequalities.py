"""popheal.inequalities and its charts/maps: hand-worked examples, the SII sign convention, genuine data.

Expected values are worked by hand from the definitions in the docstrings (Core20 = national IMD 2019
deciles 1-2, NHS England Core20PLUS5 2021; gaps as OHID Health Profile for England 2018; excess events as
defined in popheal.inequalities.excess_events; Wilson 1927; WLS on cumulative-population midpoints as
PHEindicatormethods phe_sii), or are published figures (ONS life expectancy gap by deprivation).
"""

from __future__ import annotations

import math

import geopandas as gpd
import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from shapely.geometry import box

import popheal.inequalities as ineq
from popheal.io.errors import InputError
from popheal.plots import inequalities as ichart
from popheal.plots import maps

matplotlib.use("Agg")
Z95 = 1.959963984540054

# ------------------------------------------------------------------------------------------------ fixtures


@pytest.fixture()
def imd_small() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lsoa11": ["E01099001", "E01099002", "E01099003", "E01099004"],
            "lsoa_name": ["Demo 001A", "Demo 001B", "Demo 002A", "Demo 002B"],
            "lad_code": ["E08099999"] * 4,
            "imd_rank": [100, 5000, 7000, 32000],
            "imd_decile": [1, 2, 3, 10],
        }
    )


@pytest.fixture()
def population_small() -> pd.DataFrame:
    # E01099999 is not in the IMD file; "" is an empty LSOA: both unmatched
    return pd.DataFrame(
        {
            "lsoa11": ["E01099001", "E01099002", "E01099003", "E01099004", "E01099999", "", "E01099001"],
            "practice_code": ["DEM001", "DEM001", "DEM001", "DEM002", "DEM002", "DEM001", "DEM002"],
            "population": [100, 50, 200, 150, 30, 20, 10],
        }
    )


def _flat_rate_extract(per_band: int, cases: dict[int, int]) -> pd.DataFrame:
    """Patients in every 5-year band for each quintile's LSOA, ``cases[q]`` of ``per_band`` with COPD."""
    lsoa_of = {1: "E01099001", 3: "E01099003", 5: "E01099004"}
    rows = []
    for q, k in cases.items():
        for band in range(19):
            for i in range(per_band):
                rows.append((lsoa_of[q], band * 5 + 2, i < k, int(i < k) * 2))
    df = pd.DataFrame(rows, columns=["lsoa11", "age", "ltc_copd", "emergency_admissions"])
    df["sex"] = np.where(np.arange(len(df)) % 2 == 0, "F", "M")
    df["ethnicity"] = "White"
    df["patient_id"] = np.arange(len(df))
    return df


@pytest.fixture()
def imd_quintiles() -> pd.DataFrame:
    # deciles 1, 5, 10 -> quintiles 1, 3, 5
    return pd.DataFrame({"lsoa11": ["E01099001", "E01099003", "E01099004"], "imd_decile": [1, 5, 10]})


# --------------------------------------------------------------------------------------------- core20_share


def test_core20_share_overall_hand_example(population_small, imd_small):
    out = ineq.core20_share(population_small, imd_small)
    assert list(out.columns) == [
        "core20_population",
        "total_population",
        "core20_share",
        "unmatched_population",
    ]
    row = out.iloc[0]
    assert row["core20_population"] == 160  # 100 + 50 + 10 in deciles 1-2
    assert row["total_population"] == 510  # matched: 100 + 50 + 200 + 150 + 10
    assert row["unmatched_population"] == 50  # 30 (not in IMD) + 20 (empty LSOA)
    assert row["core20_share"] == pytest.approx(160 / 510, rel=1e-12)


def test_core20_share_by_group_hand_example(population_small, imd_small):
    out = ineq.core20_share(population_small, imd_small, by="practice_code")
    assert list(out.columns) == [
        "practice_code",
        "core20_population",
        "total_population",
        "core20_share",
        "unmatched_population",
    ]
    got = out.set_index("practice_code")
    assert got.loc["DEM001"].tolist() == pytest.approx([150, 350, 150 / 350, 20])
    assert got.loc["DEM002"].tolist() == pytest.approx([10, 160, 10 / 160, 30])


def test_core20_share_group_without_matches_is_nan(imd_small):
    pop = pd.DataFrame({"lsoa11": ["E01099001", "W01000001"], "g": ["a", "b"], "population": [5.5, 3.0]})
    out = ineq.core20_share(pop, imd_small, by=["g"]).set_index("g")
    assert out.loc["a", "core20_share"] == 1.0
    assert math.isnan(out.loc["b", "core20_share"]) and out.loc["b", "unmatched_population"] == 3.0


def test_core20_share_bad_input(population_small, imd_small):
    with pytest.raises(InputError, match="population"):
        ineq.core20_share(population_small.assign(population=[1, 2, -3, 4, 5, 6, 7]), imd_small)
    with pytest.raises(InputError, match="only once"):
        ineq.core20_share(population_small, pd.concat([imd_small, imd_small.head(1)]))
    with pytest.raises(InputError, match="1 \\(most deprived\\) to 10"):
        ineq.core20_share(population_small, imd_small.assign(imd_decile=[1, 2, 11, 3]))
    with pytest.raises(InputError, match="sex"):
        ineq.core20_share(population_small, imd_small, by="sex")


def test_population_helpers(imd_small):
    extract = pd.DataFrame(
        {"lsoa11": ["E01099001", "E01099001", "", "E01099004"], "sex": ["F", "M", "F", "F"]}
    )
    pop = ineq.population_from_extract(extract, by="sex")
    out = ineq.core20_share(pop, imd_small, by="sex").set_index("sex")
    assert out.loc["F"].tolist() == pytest.approx([1, 2, 0.5, 1])
    assert out.loc["M"].tolist() == pytest.approx([1, 1, 1.0, 0])
    # persons rows win over F/M rows so nobody is counted twice
    long = pd.DataFrame(
        {
            "area_code": ["E01099001"] * 3 + ["E01099004"] * 2,
            "sex": ["persons", "F", "M"] * 1 + ["persons", "persons"],
            "age": [0, 0, 0, 0, 1],
            "year": 2019,
            "population": [10, 4, 6, 3, 2],
        }
    )
    lsoa = ineq.population_from_lsoa_table(long)
    assert dict(zip(lsoa["lsoa11"], lsoa["population"])) == {"E01099001": 10, "E01099004": 5}


def test_core20_share_wolverhampton_genuine(real_data):
    from popheal.io import read_imd, read_lsoa_population

    imd = read_imd(
        real_data / "imd2019_lsoa" / "File_1_-_IMD2019_Index_of_Multiple_Deprivation_BlackCountry.csv"
    )
    pop = read_lsoa_population(
        real_data / "mye_lsoa_syoa" / "population19_lsoa11_persons_syoa_BlackCountry.csv", year=2019
    )
    wolves = imd[imd["lad_code"] == "E08000031"]
    lsoa_pop = ineq.population_from_lsoa_table(pop)
    lsoa_pop = lsoa_pop[lsoa_pop["lsoa11"].isin(wolves["lsoa11"])]
    out = ineq.core20_share(lsoa_pop, wolves)
    share = float(out["core20_share"].iloc[0])
    print(
        f"\nWolverhampton Core20 share (IMD 2019, mid-2019 LSOA population): {share:.4f} "
        f"({int(out['core20_population'].iloc[0]):,} of {int(out['total_population'].iloc[0]):,})"
    )
    assert int(out["total_population"].iloc[0]) == 263_357  # SOURCES.md: the 158 LSOAs sum to the LAD total
    assert out["unmatched_population"].iloc[0] == 0
    assert 0.40 <= share <= 0.60


# -------------------------------------------------------------------------------------- aggregation helpers


def test_quintile_and_age_band_helpers():
    assert ineq.deprivation_quintile(pd.Series([1, 2, 3, 4, 9, 10])).tolist() == [1, 1, 2, 2, 5, 5]
    assert ineq.deprivation_quintile(pd.Series([None, 5])).isna().tolist() == [True, False]
    bands = ineq.age_band_5y([0, 4, 5, 84, 85, 89, 90, 104])
    assert bands.astype(str).tolist() == ["0-4", "0-4", "5-9", "80-84", "85-89", "85-89", "90+", "90+"]
    assert list(bands.cat.categories) == list(ineq.AGE_BANDS) and len(ineq.AGE_BANDS) == 19


def test_aggregate_extract_hand_example(imd_small):
    extract = pd.DataFrame(
        {
            "lsoa11": ["E01099001", "E01099002", "E01099003", "E01099004", "", "E01099001"],
            "age": [40, 42, 40, 91, 50, 3],
            "sex": ["F", "F", "M", "F", "M", "M"],
            "ethnicity": ["Asian", "White", "White", "Black", "White", "Asian"],
            "ltc_copd": [True, False, True, True, True, False],
            "emergency_admissions": [2, 0, 1, 3, 5, 1],
        }
    )
    out = ineq.aggregate_extract(
        extract,
        {"COPD": "ltc_copd", "Admissions": "emergency_admissions"},
        imd=imd_small,
        by="imd_quintile",
        strata=("age_band",),
    )
    assert out.attrs["excluded_patients"] == 1  # the empty LSOA
    # 2 quintiles present (1: deciles 1-2, 2: decile 3, 5: decile 10) x 19 bands x 2 indicators
    assert len(out) == 3 * 19 * 2
    nonzero = out[out["denominator"] > 0].set_index(["imd_quintile", "age_band", "indicator"])
    assert nonzero.loc[(1, "40-44", "COPD")].tolist() == [1, 2]
    assert nonzero.loc[(1, "40-44", "Admissions")].tolist() == [2, 2]
    assert nonzero.loc[(1, "0-4", "Admissions")].tolist() == [1, 1]
    assert nonzero.loc[(5, "90+", "COPD")].tolist() == [1, 1]
    assert out["numerator"].sum() == 3 + 7  # COPD 3 + admissions 7 among matched patients

    by_eth = ineq.aggregate_extract(
        extract, ["ltc_copd"], by="ethnicity", strata=(), denominators={"ltc_copd": extract["age"] >= 18}
    )
    got = by_eth.set_index("ethnicity")[["numerator", "denominator"]]
    assert got.loc["Asian"].tolist() == [1, 1]  # the 3-year-old is outside the denominator
    assert got.loc["White"].tolist() == [2, 3]


def test_lsoa_pcn_assignment():
    extract = pd.DataFrame(
        {"practice_code": ["A", "A", "B", "B", "B", "C"], "lsoa11": ["L1", "L2", "L1", "L1", "", "L2"]}
    )
    pmap = pd.DataFrame({"practice_code": ["A", "B", "C"], "pcn_code": ["P1", "P2", "P2"]})
    one = ineq.lsoa_pcn_assignment(extract, pmap)
    assert dict(zip(one["lsoa11"], one["pcn_code"])) == {"L1": "P2", "L2": "P1"}  # L2 tie -> first code
    every = ineq.lsoa_pcn_assignment(extract, pmap, method="all")
    assert len(every) == 4 and every["share"].sum() == pytest.approx(2.0)


# ------------------------------------------------------------------------------- standardised breakdowns


def test_deprivation_breakdown_flat_rates(imd_quintiles):
    # within each quintile every age band has the same rate, so the DSR equals that rate whatever the weights
    extract = _flat_rate_extract(20, {1: 6, 3: 4, 5: 2})
    out = ineq.deprivation_breakdown(
        extract, imd_quintiles, measures={"COPD": "ltc_copd", "Admissions": "emergency_admissions"}
    )
    assert {
        "indicator",
        "area_type",
        "breakdown",
        "group",
        "numerator",
        "denominator",
        "value",
        "lowercl",
        "uppercl",
        "confidence",
        "statistic",
        "method",
    } <= set(out.columns)
    q = out[out["breakdown"] == "IMD 2019 national quintile"].set_index(["indicator", "group"])
    assert q.loc[("COPD", "Q1 most deprived"), "value"] == pytest.approx(30.0)
    assert q.loc[("COPD", "Q3"), "value"] == pytest.approx(20.0)
    assert q.loc[("COPD", "Q5 least deprived"), "value"] == pytest.approx(10.0)
    assert q.loc[("COPD", "Q1 most deprived"), "statistic"] == "dsr per 100"
    assert q.loc[("Admissions", "Q1 most deprived"), "value"] == pytest.approx(600.0)  # 2 x 6/20 per 1,000
    assert q.loc[("Admissions", "Q1 most deprived"), "statistic"] == "dsr per 1000"
    assert q.loc[("COPD", "Q1 most deprived"), "denominator"] == 20 * 19
    everyone = out[(out["breakdown"] == "All") & (out["indicator"] == "COPD")]
    assert everyone["numerator"].iloc[0] == (6 + 4 + 2) * 19
    assert list(out["group"].iloc[:4]) == ["All", "Q1 most deprived", "Q3", "Q5 least deprived"]

    gap = ineq.deprivation_gap(out).set_index("indicator")
    assert gap.loc["COPD", "absolute_gap"] == pytest.approx(20.0)
    assert gap.loc["COPD", "relative_gap"] == pytest.approx(3.0)
    assert gap.loc["Admissions", "absolute_gap"] == pytest.approx(400.0)


def test_ethnicity_breakdown_groups_and_order(imd_quintiles):
    extract = _flat_rate_extract(20, {1: 6, 5: 2})
    extract["ethnicity"] = np.where(extract["lsoa11"] == "E01099001", "Asian", "White")
    out = ineq.ethnicity_breakdown(extract, measures=["ltc_copd"], include_all=False)
    assert out["breakdown"].unique().tolist() == ["Ethnic group"]
    assert out["indicator"].unique().tolist() == ["COPD prevalence"]
    assert dict(zip(out["group"], out["value"].round(9))) == {"Asian": 30.0, "White": 10.0}


def test_breakdown_too_few_events_is_missing(imd_quintiles):
    extract = _flat_rate_extract(1, {1: 0, 5: 0})
    extract.loc[extract.index[-5:], "ltc_copd"] = True  # 5 events in Q5, none in Q1
    out = ineq.deprivation_breakdown(extract, imd_quintiles, measures=["ltc_copd"], include_all=False)
    assert out["value"].isna().all()
    assert out["statistic"].str.contains("total count < 10").all()


# ----------------------------------------------------------------------------------------- gaps and SII


def _quintile_table(values, pops=(1000,) * 5, half_width=1.0, indicator="x"):
    labels = list(ineq.QUINTILE_LABELS.values())
    v = np.asarray(values, float)
    return pd.DataFrame(
        {
            "indicator": indicator,
            "breakdown": "IMD 2019 national quintile",
            "group": labels,
            "numerator": 100,
            "denominator": list(pops),
            "value": v,
            "lowercl": v - half_width,
            "uppercl": v + half_width,
            "confidence": "95%",
        }
    )


def test_gap_hand_computed():
    table = _quintile_table([20, 0, 0, 0, 10], half_width=0)
    table.loc[0, ["lowercl", "uppercl"]] = [18, 22]
    table.loc[4, ["lowercl", "uppercl"]] = [9, 11]
    gap = ineq.deprivation_gap(table).iloc[0]
    se = math.sqrt((4 / (2 * Z95)) ** 2 + (2 / (2 * Z95)) ** 2)
    assert gap["absolute_gap"] == 10 and gap["relative_gap"] == 2
    assert gap["absolute_gap_lowercl"] == pytest.approx(10 - Z95 * se, rel=1e-9)
    assert gap["absolute_gap_uppercl"] == pytest.approx(10 + Z95 * se, rel=1e-9)
    se_log = math.sqrt(
        ((math.log(22) - math.log(18)) / (2 * Z95)) ** 2 + ((math.log(11) - math.log(9)) / (2 * Z95)) ** 2
    )
    assert gap["relative_gap_lowercl"] == pytest.approx(2 * math.exp(-Z95 * se_log), rel=1e-9)
    assert gap["relative_gap_uppercl"] == pytest.approx(2 * math.exp(Z95 * se_log), rel=1e-9)
    reverse = ineq.deprivation_gap(table, order="least-most").iloc[0]
    assert reverse["absolute_gap"] == -10 and reverse["relative_gap"] == 0.5
    assert "Q5 least deprived minus Q1 most deprived" in reverse["gap_definition"]


def test_sii_sign_convention():
    # equal populations: relative ranks 0.1, 0.3, ..., 0.9, so a linear gradient's SII is its slope exactly
    higher_in_most_deprived = _quintile_table([10, 8, 6, 4, 2], half_width=0.5)
    higher_in_least_deprived = _quintile_table([70, 72, 74, 76, 78], half_width=0.5)
    down = ineq.slope_index(higher_in_most_deprived, repetitions=2000).iloc[0]
    up = ineq.slope_index(higher_in_least_deprived, value_type=0, rii=False, repetitions=2000).iloc[0]
    assert down["sii"] == pytest.approx(-10.0, rel=1e-9)  # (2 - 10) / (0.9 - 0.1)
    assert down["rii"] == pytest.approx(1 / 11, rel=1e-9)  # fitted at rank 1 (1) / fitted at rank 0 (11)
    assert down["sii_lowercl"] < down["sii"] < down["sii_uppercl"] < 0
    assert up["sii"] == pytest.approx(10.0, rel=1e-9)
    assert "negative SII means higher values in the most deprived" in down["statistic"]
    assert ineq.SII_CONVENTION in up["statistic"]
    # unequal populations move the ranks (cumulative midpoints), and the ordering is by label, not row order
    shuffled = _quintile_table([10, 8, 6, 4, 2], pops=(3000, 1000, 1000, 1000, 4000)).iloc[::-1]
    res = ineq.slope_index(shuffled, repetitions=2000).iloc[0]
    rank = np.array([0.15, 0.35, 0.45, 0.55, 0.8])
    w = np.array([0.3, 0.1, 0.1, 0.1, 0.4])
    slope = np.polyfit(rank, [10, 8, 6, 4, 2], 1, w=np.sqrt(w))[0]
    assert res["sii"] == pytest.approx(slope, rel=1e-9)


def test_sii_percentages_use_logit_scale():
    table = _quintile_table([40, 45, 50, 55, 60], half_width=3)
    res = ineq.slope_index(table, value_type=2, scale=100, repetitions=2000).iloc[0]
    assert res["sii"] == pytest.approx(25.0, rel=1e-9)  # percentage points, least minus most deprived


def test_inequality_summary_and_missing_groups(imd_quintiles):
    extract = _flat_rate_extract(20, {1: 6, 3: 4, 5: 2})
    table = ineq.deprivation_breakdown(extract, imd_quintiles, measures={"COPD": "ltc_copd"})
    # only quintiles 1, 3 and 5 have patients: the gap is defined, the SII (5+ quantiles) is not
    summary = ineq.inequality_summary(table, repetitions=2000).iloc[0]
    assert summary["absolute_gap"] == pytest.approx(20.0) and summary["relative_gap"] == pytest.approx(3.0)
    assert math.isnan(summary["sii"]) and "fewer than 5" in summary["sii_statistic"]
    no_q5 = table[table["group"] != "Q5 least deprived"]
    assert ineq.deprivation_gap(no_q5)["absolute_gap"].isna().all()  # missing, not an error
    # a PCN with nobody in quintile 5: the summary compares the least deprived quintile present, and says so
    fallback = ineq.inequality_summary(no_q5, repetitions=2000).iloc[0]
    assert fallback["absolute_gap"] == pytest.approx(10.0) and fallback["relative_gap"] == pytest.approx(1.5)
    assert fallback["gap_definition"].startswith("Q1 most deprived minus Q3;")
    full = pd.concat(
        [
            _quintile_table([10, 8, 6, 4, 2], indicator="rate").assign(statistic="dsr per 100"),
            _quintile_table([40, 45, 50, 55, 60], indicator="pct").assign(statistic="percentage"),
        ]
    )
    both = ineq.inequality_summary(full, repetitions=2000).set_index("indicator")
    assert both.loc["rate", "sii"] == pytest.approx(-10.0) and both.loc["pct", "sii"] == pytest.approx(25.0)
    assert both.loc["rate", "absolute_gap"] == pytest.approx(8.0)


# ------------------------------------------------------------------------------------------ excess events


def _counts_two_quintiles() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "indicator": "admissions",
            "imd_quintile": [1, 1, 5, 5],
            "age_band": ["0-4", "5-9", "0-4", "5-9"],
            "numerator": [6, 15, 2, 10],
            "denominator": [200, 50, 100, 100],
        }
    )


def test_excess_events_age_specific_hand_computed():
    out = ineq.excess_events(_counts_two_quintiles()).set_index("group")
    # Q5 rates: 2/100 and 10/100; Q1 expected = 200 x 0.02 + 50 x 0.10 = 9; observed 21
    assert out.loc["Q1 most deprived", ["observed", "expected", "excess"]].tolist() == pytest.approx(
        [21, 9, 12]
    )
    assert out.loc["Q5 least deprived", ["observed", "expected", "excess"]].tolist() == pytest.approx(
        [12, 12, 0]
    )
    assert out.loc["Total", ["observed", "denominator", "expected", "excess"]].tolist() == pytest.approx(
        [33, 450, 21, 12]
    )
    assert out.loc["Total", "excess_percent"] == pytest.approx(100 * 12 / 33)
    assert out.index.tolist() == ["Q1 most deprived", "Q5 least deprived", "Total"]


def test_excess_events_crude_and_missing_reference_stratum():
    crude = ineq.excess_events(_counts_two_quintiles(), strata=()).set_index("group")
    # crude Q5 rate 12/200 = 0.06; Q1 expected = 250 x 0.06 = 15
    assert crude.loc["Q1 most deprived", "excess"] == pytest.approx(6.0)
    counts = pd.concat(
        [
            _counts_two_quintiles(),
            pd.DataFrame(
                {
                    "indicator": "admissions",
                    "imd_quintile": [1, 5],
                    "age_band": ["90+", "90+"],
                    "numerator": [4, 0],
                    "denominator": [10, 0],
                }
            ),
        ],
        ignore_index=True,
    )
    out = ineq.excess_events(counts).set_index("group")
    pd.testing.assert_frame_equal(ineq.excess_events(counts, reference=5), ineq.excess_events(counts))
    assert (out["reference_group"] == "Q5 least deprived").all()
    # no reference population at 90+: those 4 events are expected (no excess attributed)
    assert out.loc["Q1 most deprived", ["observed", "expected", "excess"]].tolist() == pytest.approx(
        [25, 13, 12]
    )


def test_excess_events_reference_without_quintile_5():
    counts = _counts_two_quintiles().replace({"imd_quintile": {5: 4}})
    out = ineq.excess_events(counts).set_index("group")
    assert out.loc["Q1 most deprived", "excess"] == pytest.approx(12.0)
    assert (out["reference_group"] == "Q4").all()
    with pytest.raises(InputError, match="reference group 5"):
        ineq.excess_events(counts, reference=5)


def test_excess_events_from_extract(imd_quintiles):
    extract = _flat_rate_extract(20, {1: 6, 3: 4, 5: 2})
    counts = ineq.aggregate_extract(extract, {"COPD": "ltc_copd"}, imd=imd_quintiles)
    out = ineq.excess_events(counts).set_index("group")
    # Q5 rate 0.1 in every band: expected 38 per quintile of 380 patients
    assert out.loc["Q1 most deprived", "excess"] == pytest.approx(6 * 19 - 38)
    assert out.loc["Q3", "excess"] == pytest.approx(4 * 19 - 38)
    assert out.loc["Total", "excess"] == pytest.approx(76 + 38)


# --------------------------------------------------------------------------------------------- Core20PLUS5


@pytest.fixture()
def core20plus5_extract() -> pd.DataFrame:
    rows = [
        # lsoa, age, ethnicity, htn, sbp, copd, smi, smi_check, ld, ld_check
        ("E01099001", 50, "Asian", True, 130.0, False, True, True, False, False),
        ("E01099001", 60, "Asian", True, 150.0, True, False, False, False, False),
        ("E01099001", 85, "White", True, 145.0, False, False, False, True, True),
        ("E01099002", 70, "White", True, np.nan, True, True, False, False, False),
        ("E01099002", 30, "Black", False, 120.0, False, True, np.nan, True, False),
        ("E01099004", 82, "White", True, 155.0, False, False, False, False, False),
        ("E01099004", 45, "White", True, 139.0, False, False, False, True, True),
        ("E01099004", 12, "White", False, np.nan, False, False, False, True, True),
        ("E01099004", 16, "White", False, np.nan, False, True, True, False, False),
        ("", 40, "Asian", True, 120.0, True, False, False, False, False),
    ]
    cols = [
        "lsoa11",
        "age",
        "ethnicity",
        "ltc_hypertension",
        "sbp",
        "ltc_copd",
        "ltc_smi",
        "smi_health_check",
        "ltc_learning_disability",
        "ld_health_check",
    ]
    df = pd.DataFrame(rows, columns=cols)
    df["smi_health_check"] = df["smi_health_check"].astype("boolean")
    return df


def _wilson(x, n, z=Z95):
    p = x / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return 100 * (centre - spread) / (1 + z * z / n), 100 * (centre + spread) / (1 + z * z / n)


def test_core20plus5_hand_example(core20plus5_extract, imd_small):
    out = ineq.core20plus5_measures(core20plus5_extract, imd_small)
    got = out.set_index(["indicator", "breakdown", "group"])
    htn = "Hypertension prevalence (recorded)"
    ctl = "Hypertension: BP controlled, under 80 (SBP < 140)"
    ctl80 = "Hypertension: BP controlled, 80 and over (SBP < 150)"
    smi = "SMI annual health check (18+)"
    ld = "Learning disability annual health check (14+)"
    assert list(pd.unique(out["indicator"])) == [htn, ctl, ctl80, "COPD prevalence (recorded)", smi, ld]
    quint = "IMD 2019 national quintile"
    core = "Core20 (IMD 2019 national deciles 1-2)"
    # all patients: 7 of 10 hypertensive
    assert got.loc[(htn, "All", "All"), ["numerator", "denominator"]].tolist() == [7, 10]
    # control under 80 among hypertensives with an SBP:
    # ages 50 (130 yes), 60 (150 no), 45 (139 yes), 40 (120 yes)
    assert got.loc[(ctl, "All", "All"), ["numerator", "denominator"]].tolist() == [3, 4]
    assert got.loc[(ctl, quint, "Q1 most deprived"), ["numerator", "denominator"]].tolist() == [1, 2]
    assert got.loc[(ctl, quint, "Q5 least deprived"), ["numerator", "denominator"]].tolist() == [1, 1]
    # 80 and over: 85 (145 < 150 yes), 82 (155 no)
    assert got.loc[(ctl80, "All", "All"), ["numerator", "denominator"]].tolist() == [1, 2]
    # SMI 18+: ages 50 (check), 70 (no), 30 (missing -> not done); the 16-year-old is outside the register
    assert got.loc[(smi, "All", "All"), ["numerator", "denominator"]].tolist() == [1, 3]
    assert got.loc[(smi, core, "Core20"), ["numerator", "denominator"]].tolist() == [1, 3]
    # LD 14+: 85 (check), 30 (no), 45 (check); the 12-year-old is outside
    assert got.loc[(ld, "All", "All"), ["numerator", "denominator"]].tolist() == [2, 3]
    assert got.loc[(ld, "Ethnic group", "White"), ["numerator", "denominator"]].tolist() == [2, 2]
    row = got.loc[(ctl, "All", "All")]
    assert row["value"] == pytest.approx(75.0)
    lo, hi = _wilson(3, 4)
    assert row["lowercl"] == pytest.approx(lo, rel=1e-9) and row["uppercl"] == pytest.approx(hi, rel=1e-9)
    assert row["statistic"] == "percentage" and row["method"] == "Wilson"
    assert ineq.CORE20PLUS5_TARGETS[smi] == 60.0
    assert not ((out["indicator"] == ctl80) & (out["group"] == "Black")).any()  # zero denominators dropped


# ------------------------------------------------------------------------------------ life expectancy gap


def test_prepare_deaths_by_quintile_layout():
    table = pd.DataFrame(
        {
            "year": 2016,
            "sex": ["men", "women"],
            "qimd": ["1 most deprived", "5 least deprived"],
            "agegroup": ["<1", "01-04"],
            "deaths": [5, 1],
            "pops": [1000, 4000],
            "C18": [0, 0],
        }
    )
    out = ineq.prepare_deaths_by_quintile(table)
    assert out.columns.tolist() == [
        "year",
        "sex",
        "imd_quintile",
        "age_band",
        "startage",
        "deaths",
        "population",
    ]
    # sorted by sex, quintile and age
    assert out["sex"].tolist() == ["F", "M"] and out["startage"].tolist() == [1, 0]
    assert out["imd_quintile"].tolist() == [5, 1] and out["population"].tolist() == [4000, 1000]


def test_life_expectancy_gap_england_2016(real_data):
    path = (
        real_data / "life_tables" / "workhorse_England_deaths_pops_by_agegroup_sex_IMDquintile_2001-2016.csv"
    )
    deaths = ineq.prepare_deaths_by_quintile(pd.read_csv(path), year=2016)
    le = ineq.life_expectancy_by_deprivation(deaths, by="sex")
    assert len(le) == 10 and le["value"].notna().all()
    gaps = ineq.life_expectancy_gap(le, by="sex", repetitions=10_000).set_index("sex")
    print(
        f"\nLE at birth gap Q5 - Q1, England 2016: men {gaps.loc['M', 'gap']:.2f}, women "
        f"{gaps.loc['F', 'gap']:.2f} years; SII men {gaps.loc['M', 'sii']:.2f}, "
        f"women {gaps.loc['F', 'sii']:.2f}"
    )
    # ONS: decile gaps ~9-10 (men) and ~7-8 (women) years in 2015-17; quintile gaps are smaller
    assert 6.0 <= gaps.loc["M", "gap"] <= 9.5
    assert 4.5 <= gaps.loc["F", "gap"] <= 7.5
    assert gaps.loc["M", "gap"] > gaps.loc["F", "gap"]
    # the SII spans the whole gradient (rank 0 to 1), so it exceeds the Q5 - Q1 gap; ONS 2017-19 (deciles):
    # 9.4 men, 7.6 women
    assert gaps.loc["M", "gap"] < gaps.loc["M", "sii"] < 11
    assert gaps.loc["F", "gap"] < gaps.loc["F", "sii"] < 9
    assert (gaps["sii_lowercl"] < gaps["sii"]).all() and (gaps["sii"] < gaps["sii_uppercl"]).all()
    men = le[le["sex"] == "M"].sort_values("imd_quintile")["value"].to_numpy()
    assert np.all(np.diff(men) > 0)  # a steady gradient


# -------------------------------------------------------------------------------------------- maps/charts


@pytest.fixture()
def grid_lsoas() -> gpd.GeoDataFrame:
    """A 5 x 4 grid of 1 km squares in British National Grid, with deciles 1..10 twice."""
    cells = [
        box(390000 + 1000 * i, 295000 + 1000 * j, 391000 + 1000 * i, 296000 + 1000 * j)
        for j in range(4)
        for i in range(5)
    ]
    codes = [f"E01099{k:03d}" for k in range(20)]
    return gpd.GeoDataFrame(
        {"lsoa11": codes, "imd_decile": [*range(1, 11), *range(1, 11)]}, geometry=cells, crs="EPSG:27700"
    )


def _png_size(fig: Figure, path) -> int:
    fig.savefig(path)
    matplotlib.pyplot.close(fig)
    return path.stat().st_size


def test_pcn_boundaries_dissolve_and_hull(grid_lsoas):
    assign = pd.DataFrame({"lsoa11": grid_lsoas["lsoa11"], "pcn_code": ["A"] * 10 + ["B"] * 10})
    b = maps.pcn_boundaries(grid_lsoas, assign).set_index("pcn_code")
    assert b.crs.to_epsg() == 27700
    assert b.loc["A", "n_lsoas"] == 10 and b.loc["A", "geometry"].area == pytest.approx(10e6)
    assert b.loc["A", "geometry"].geom_type == "Polygon"
    # an L-shaped catchment: its convex hull is bigger than the union
    l_shape = pd.DataFrame({"lsoa11": ["E01099000", "E01099001", "E01099005"], "pcn_code": "C"})
    hull = maps.pcn_boundaries(grid_lsoas, l_shape, method="hull").iloc[0]
    assert hull["geometry"].area == pytest.approx(3.5e6)
    with pytest.raises(ValueError, match="one PCN"):
        maps.pcn_boundaries(grid_lsoas, pd.concat([assign, assign.head(1).assign(pcn_code="B")]))


def test_deprivation_map_synthetic(grid_lsoas, tmp_path):
    practices = pd.DataFrame(
        {
            "practice_code": ["DEM001", "DEM002", "DEM003"],
            "easting": [390500, 392500, 394500],
            "northing": [295500, 297500, 298500],
        }
    )
    assign = pd.DataFrame({"lsoa11": grid_lsoas["lsoa11"], "pcn_code": ["DEMPCN1"] * 10 + ["DEMPCN2"] * 10})
    fig = maps.deprivation_map(
        grid_lsoas.drop(index=[19]),
        practices=practices,
        label_practices=["DEM001"],
        boundaries=maps.pcn_boundaries(grid_lsoas, assign),
        highlight_pcn="DEMPCN1",
    )
    assert isinstance(fig, Figure)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert fig.legends[0].get_title().get_text().endswith("1 = most deprived 10% in England")
    assert "1 most deprived (Core20)" in labels and "10 least deprived" in labels
    assert "Practices in this PCN (labelled)" in labels and "This PCN's boundary" in labels
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "DEM001" in texts and "DEM002" not in texts  # only the PCN's own practices are named
    assert _png_size(fig, tmp_path / "deprivation.png") > 20_000


def test_rate_map_suppresses_small_numerators(grid_lsoas, tmp_path):
    rates = pd.DataFrame(
        {
            "lsoa11": grid_lsoas["lsoa11"],
            "numerator": [0, 3, 7, 8] + [20] * 15 + [None],
            "value": np.linspace(1, 20, 20),
        }
    )
    wgs84 = grid_lsoas.to_crs(4326)  # any CRS in
    fig = maps.rate_map(wgs84, rates, threshold=7, legend_title="Admissions per 1,000")
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "Suppressed: 1-7 events" in labels
    assert len([s for s in labels if " to " in s]) == 5
    assert _png_size(fig, tmp_path / "rates.png") > 15_000
    with pytest.raises(ValueError, match="no coordinate reference system"):
        maps.rate_map(grid_lsoas.set_crs(None, allow_override=True), rates)


def test_maps_on_genuine_wolverhampton_boundaries(real_data, tmp_path):
    lsoas = gpd.read_file(real_data / "lsoa2011_boundaries" / "lsoa2011_Wolverhampton_wgs84.geojson")
    lsoas = lsoas.rename(columns={"lsoa11cd": "lsoa11"})[["lsoa11", "geometry"]].to_crs(27700)
    assert len(lsoas) == 158
    from popheal.io import read_imd, read_practice_locations

    imd = read_imd(
        real_data / "imd2019_lsoa" / "File_1_-_IMD2019_Index_of_Multiple_Deprivation_BlackCountry.csv"
    )
    sites = maps.practice_points(
        read_practice_locations(real_data / "gp_locations" / "nhs_choices_GPs_2018_BlackCountryCCGs.csv")
    )
    area = lsoas.geometry.make_valid().union_all(grid_size=1.0)  # published boundaries need repair first
    sites = sites[sites.within(area.buffer(200))]
    # a stand-in catchment: each LSOA goes to the PCN of its nearest practice site (two made-up PCNs)
    half = sites["practice_code"].rank(method="first") <= len(sites) / 2
    sites = sites.assign(pcn_code=np.where(half, "PCN_A", "PCN_B"))
    nearest = gpd.sjoin_nearest(
        lsoas.set_geometry(lsoas.representative_point()), sites[["pcn_code", "geometry"]]
    )
    assignment = nearest.drop_duplicates("lsoa11")[["lsoa11", "pcn_code"]]
    bounds = maps.pcn_boundaries(lsoas, assignment)
    assert bounds["n_lsoas"].sum() == 158
    own = sites.loc[sites["pcn_code"] == "PCN_A", "practice_code"].head(6).tolist()
    fig = maps.deprivation_map(
        lsoas, imd, practices=sites, label_practices=own, boundaries=bounds, highlight_pcn="PCN_A"
    )
    assert _png_size(fig, tmp_path / "wolverhampton_imd.png") > 50_000
    rng = np.random.default_rng(8)
    rates = pd.DataFrame({"lsoa11": lsoas["lsoa11"], "numerator": rng.poisson(12, len(lsoas))})
    rates["value"] = 1000 * rates["numerator"] / rng.integers(1200, 2000, len(lsoas))
    fig = maps.rate_map(lsoas, rates, boundaries=bounds, practices=sites, label_practices=own)
    assert _png_size(fig, tmp_path / "wolverhampton_rates.png") > 50_000


def test_inequality_charts_render(imd_quintiles, core20plus5_extract, imd_small, tmp_path):
    extract = _flat_rate_extract(20, {1: 6, 3: 4, 5: 2})
    table = ineq.deprivation_breakdown(extract, imd_quintiles, measures={"COPD": "ltc_copd"})
    fig = ichart.breakdown_chart(table, "COPD")
    ticks = dict(zip(fig.axes[0].get_yticks(), [t.get_text() for t in fig.axes[0].get_yticklabels()]))
    assert [ticks[k] for k in sorted(ticks, reverse=True)] == ["Q1 most deprived", "Q3", "Q5 least deprived"]
    assert _png_size(fig, tmp_path / "breakdown.png") > 10_000
    measures = ineq.core20plus5_measures(core20plus5_extract, imd_small)
    smi = "SMI annual health check (18+)"
    fig = ichart.breakdown_chart(measures, smi, "Ethnic group", target=ineq.CORE20PLUS5_TARGETS[smi])
    assert fig.texts and "not shown" in fig.texts[0].get_text()  # 1-7 counts suppressed and noted
    assert _png_size(fig, tmp_path / "smi.png") > 5_000
    counts = ineq.aggregate_extract(extract, {"COPD": "ltc_copd"}, imd=imd_quintiles)
    fig = ichart.excess_events_chart(ineq.excess_events(counts), "COPD")
    assert _png_size(fig, tmp_path / "excess.png") > 10_000
    le = pd.DataFrame(
        {
            "sex": ["F"] * 5 + ["M"] * 5,
            "imd_quintile": [1, 2, 3, 4, 5] * 2,
            "group": list(ineq.QUINTILE_LABELS.values()) * 2,
            "value": [79.6, 82.0, 83.4, 84.4, 85.7, 75.1, 78.2, 80.1, 81.4, 82.8],
        }
    )
    le["lowercl"], le["uppercl"] = le["value"] - 0.1, le["value"] + 0.1
    fig = ichart.life_expectancy_chart(le)
    assert _png_size(fig, tmp_path / "le.png") > 10_000


def test_gap_falls_back_when_the_least_deprived_group_has_no_rate():
    """A PCN with a handful of patients in quintile 5 has a row but no standardised rate (fewer than 10
    events); the gap compares the most deprived with the least deprived group that has a value (Q4 here)."""
    from popheal.inequalities import BREAKDOWN_LABELS, QUINTILE_LABELS, inequality_summary

    rows = []
    for q, value in zip(range(1, 6), [20.0, 18.0, 15.0, 12.0, float("nan")], strict=True):
        rows.append({"indicator": "COPD", "breakdown": BREAKDOWN_LABELS["imd_quintile"],
                     "group": QUINTILE_LABELS[q], "numerator": 50 if q < 5 else 1, "denominator": 400 if q < 5 else 4,
                     "value": value, "lowercl": value - 2, "uppercl": value + 2, "confidence": "95%",
                     "statistic": "dsr per 100", "method": "Dobson"})
    out = inequality_summary(pd.DataFrame(rows), repetitions=1000, seed=1).iloc[0]
    assert out["absolute_gap"] == pytest.approx(20.0 - 12.0)
    assert QUINTILE_LABELS[4] in out["gap_definition"]


def test_excess_events_can_take_reference_rates_from_the_area():
    """Hand example: the PCN's quintile 1 has 10/100 (band A) and 20/100 (band B); the area's quintile 5 has
    rates 0.05 and 0.10, so expected = 100 x 0.05 + 100 x 0.10 = 15 and excess = 30 - 15 = 15."""
    pcn = pd.DataFrame({"imd_quintile": [1, 1, 5], "age_band": ["A", "B", "A"], "indicator": "x",
                        "numerator": [10, 20, 1], "denominator": [100, 100, 4]})
    area = pd.DataFrame({"imd_quintile": [5, 5], "age_band": ["A", "B"], "indicator": "x",
                         "numerator": [5, 10], "denominator": [100, 100]})
    out = ineq.excess_events(pcn, reference=5, reference_counts=area, reference_label="area Q5")
    q1 = out[out["group"].str.startswith("Q1")].iloc[0]
    assert q1["expected"] == pytest.approx(15.0) and q1["excess"] == pytest.approx(15.0)
    assert (out["reference_group"] == "area Q5").all()


def test_rate_map_suppresses_small_populations_too(tmp_path):
    """An LSOA with 3 patients and 0 admissions is greyed out like one with 3 admissions: the rate describes
    those three people."""
    from popheal.plots.maps import rate_map

    lsoas = gpd.GeoDataFrame({"lsoa11": ["E01099001", "E01099002", "E01099003"]},
                             geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000), box(2000, 0, 3000, 1000)],
                             crs="EPSG:27700")
    rates = pd.DataFrame({"lsoa11": ["E01099001", "E01099002", "E01099003"], "numerator": [0, 40, 30],
                          "denominator": [3, 400, 300], "value": [0.0, 100.0, 100.0]})
    fig = rate_map(lsoas, rates, threshold=7, denominator="denominator", source=None)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any("or people" in label for label in labels)
    fig.savefig(tmp_path / "map.png")
