"""Tests for popheal.projection: hand-computed examples, invariants and properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from popheal.io.errors import InputError
from popheal.projection import (
    AGE_BANDS,
    PACK_AGE_RANGES,
    VARIANTS,
    apportion,
    cohort_component,
    constrain,
    contact_rates,
    fertility_schedule,
    growth,
    life_table,
    persons_mortality,
    prevalence_rates,
    project_contacts,
    project_pcn,
    project_registers,
    project_scenarios,
    residual_migration,
    scale_mortality,
    scenario_range,
    single_years,
    survival_ratios,
    to_age_band,
)

AGES = np.arange(91)


def _base(values: dict[str, dict[int, float]]) -> pd.DataFrame:
    """A base population: {sex: {age: population}}, every other age 0..90 zero."""
    rows = []
    for sex, by_age in values.items():
        for age in AGES:
            rows.append({"sex": sex, "age": int(age), "population": float(by_age.get(int(age), 0.0))})
    return pd.DataFrame(rows)


def _mortality(sexes=("F", "M"), top=90, **cols) -> pd.DataFrame:
    """A single-year table 0..top with the given column values (scalars or functions of age)."""
    rows = []
    for sex in sexes:
        for age in range(top + 1):
            row = {"sex": sex, "age": age}
            for name, value in cols.items():
                row[name] = value(age) if callable(value) else value
            rows.append(row)
    return pd.DataFrame(rows)


def _cell(result, year, sex, age):
    row = result[(result["year"] == year) & (result["sex"] == sex) & (result["age"] == age)]
    assert len(row) == 1
    return float(row["population"].iloc[0])


# ---------------------------------------------------------------------------------------------------------
# cohort_component
# ---------------------------------------------------------------------------------------------------------
def test_hand_computed_one_year_step():
    """One step worked by hand.

    Mortality: q0 = 0 and qx = 0.1 at ages 1..90 (a table ending at 90), ax = 0.5.
      l0 = 1, l1 = 1, l2 = 0.9, l3 = 0.81;  L0 = l1 + a0*d0 = 1 (no infant deaths),
      L1 = l2 + 0.5*d1 = 0.9 + 0.05 = 0.95,  L2 = 0.81 + 0.045 = 0.855.
      S0 = L1/L0 = 0.95;  Sx = 0.9 for 1 <= x <= 89 (L(x+1)/L(x) = 1 - q at constant q);
      90+ survival = 1 - q90 = 0.9 (the table stops at 90); births survive with L0/l0 = 1.
    Base (2020): F 0:100, 25:1000, 89:50, 90+:200;  M 0:100, 25:1000, 90+:100.
    Fertility 0.1 at ages 25 and 26; net migrants (counts, age at year end): F 26: +19, M 1: +10.
    2021:
      F1 = 100*0.95 = 95;   F26 = 1000*0.9 + 19*(1+0.9)/2 = 900 + 18.05 = 918.05
      F90+ = 50*0.9 + 200*0.9 = 225
      M1 = 100*0.95 + 10*(1+0.95)/2 = 95 + 9.75 = 104.75;  M26 = 900;  M90+ = 90
      births = 0.1*(1000 + 0)/2 + 0.1*(0 + 918.05)/2 = 50 + 45.9025 = 95.9025
      F0 = 95.9025/2.05 = 46.781707317...;  M0 = 95.9025*1.05/2.05 = 49.120792682...
    """
    base = _base({"F": {0: 100, 25: 1000, 89: 50, 90: 200}, "M": {0: 100, 25: 1000, 90: 100}})
    mort = _mortality(qx=lambda a: 0.0 if a == 0 else 0.1)
    fert = pd.DataFrame({"age": [25, 26], "asfr": [0.1, 0.1]})
    mig = pd.DataFrame({"sex": ["F", "M"], "age": [26, 1], "net_migration": [19.0, 10.0]})
    out = cohort_component(base, mort, fert, mig, start_year=2020, end_year=2021)
    assert list(out.columns) == ["year", "sex", "age", "population"]
    assert sorted(out["year"].unique()) == [2020, 2021]
    expected = {("F", 0): 95.9025 / 2.05, ("F", 1): 95.0, ("F", 26): 918.05, ("F", 90): 225.0,
                ("M", 0): 95.9025 * 1.05 / 2.05, ("M", 1): 104.75, ("M", 26): 900.0, ("M", 90): 90.0}
    year1 = out[out["year"] == 2021]
    for (sex, age), value in expected.items():
        assert _cell(out, 2021, sex, age) == pytest.approx(value, rel=1e-12)
    others = year1[~year1.set_index(["sex", "age"]).index.isin(list(expected))]
    assert (others["population"] == 0).all()
    # the base year is returned unchanged
    assert _cell(out, 2020, "F", 25) == 1000.0 and _cell(out, 2020, "M", 90) == 100.0


def test_ageing_on_and_open_group():
    """89-year-olds who survive join 90+; 90+ survivors stay; nothing reaches beyond 90."""
    base = _base({"F": {88: 10, 89: 20, 90: 30}, "M": {89: 40, 90: 50}})
    mort = _mortality(qx=lambda a: 0.5 if a >= 89 else 0.2)
    # S88 = L89/L88 with L = l(1 - q/2): (0.8*0.75)/(0.9) = 2/3;  S89 = L90/L89 = 0.5*0.75/0.75 = 0.5;
    # 90+: 1 - q90 = 0.5
    out = cohort_component(base, mort, start_year=2000, end_year=2001)
    assert _cell(out, 2001, "F", 89) == pytest.approx(10 * 2 / 3)
    assert _cell(out, 2001, "F", 90) == pytest.approx(20 * 0.5 + 30 * 0.5)
    assert _cell(out, 2001, "M", 90) == pytest.approx(40 * 0.5 + 50 * 0.5)
    assert out["age"].max() == 90


def test_no_deaths_no_births_no_migration_only_ages():
    rng = np.random.default_rng(1)
    base = pd.DataFrame({"sex": np.repeat(["F", "M"], 91), "age": np.tile(AGES, 2),
                         "population": rng.uniform(0, 1000, 182)})
    mort = _mortality(top=100, qx=0.0)
    out = cohort_component(base, mort, start_year=2019, end_year=2029)
    totals = out.groupby("year")["population"].sum()
    assert np.allclose(totals, base["population"].sum(), rtol=1e-12)
    for k in range(1, 11):
        year = out[out["year"] == 2019 + k]
        for sex in ("F", "M"):
            now = year[year["sex"] == sex].set_index("age")["population"]
            start = base[base["sex"] == sex].set_index("age")["population"]
            assert (now.loc[:k - 1] == 0).all()  # age 0 (and the cohorts not yet born) empty
            assert np.allclose(now.loc[k:89].to_numpy(), start.loc[0:89 - k].to_numpy())
            assert now.loc[90] == pytest.approx(start.loc[90 - k:].sum())


def test_mx_and_qx_inputs_agree():
    """The same table given as mx only or qx only (qx from mx by the same rule) projects identically."""
    ages = np.arange(101)
    mx = 0.0003 * np.exp(0.09 * ages)
    mx[0] = 0.004
    m_table = pd.concat([pd.DataFrame({"sex": s, "age": ages, "mx": mx * k}) for s, k in (("F", 0.8), ("M", 1))])
    q_table = life_table(m_table)[["sex", "age", "qx"]]
    base = _base({"F": {a: 100 + a for a in range(91)}, "M": {a: 120 - a for a in range(91)}})
    fert = pd.DataFrame({"age": np.arange(15, 50), "asfr": 0.05})
    a = cohort_component(base, m_table, fert, start_year=2020, end_year=2040)
    b = cohort_component(base, q_table, fert, start_year=2020, end_year=2040)
    assert np.allclose(a["population"], b["population"], rtol=1e-10, atol=0)


def test_life_table_beyond_90_collapsed():
    """Open 90+ survival is T(91)/T(90) for a longer table, 1 - q90 for a table ending at 90.

    Hand example (ax = 0.5): m90 = 0.2, m91 = 0.4, m92+ = 0.5 (open) -> with l90 = 1:
    L90 = l90/(1 + 0.5 m90) = 10/11, l91 = 9/11, L91 = l91/1.2 = 15/22, l92 = 6/11, L92+ = l92/m = 12/11,
    T91 = 15/22 + 24/22 = 39/22, T90 = 59/22, so S(90+) = 39/59.
    """
    m = lambda a: 0.0 if a < 90 else {90: 0.2, 91: 0.4}.get(a, 0.5)
    ratios = survival_ratios(_mortality(sexes=("F",), top=92, mx=m))
    assert ratios.loc[ratios["age"] == 90, "survival"].iloc[0] == pytest.approx(39 / 59, rel=1e-12)
    assert ratios.loc[ratios["age"] == 89, "survival"].iloc[0] == pytest.approx(10 / 11, rel=1e-12)

    # constant hazard beyond 90: a table to 100 and the same table cut at 90 give the same projection
    def hazard(a):
        return 0.001 if a < 90 else 0.25

    long = _mortality(top=100, mx=hazard)
    short = _mortality(top=90, mx=hazard)
    base = _base({"F": {85: 100, 89: 100, 90: 500}, "M": {89: 100, 90: 300}})
    a = cohort_component(base, long, start_year=2020, end_year=2030)
    b = cohort_component(base, short, start_year=2020, end_year=2030)
    assert np.allclose(a["population"], b["population"], rtol=1e-12)
    # and the 90+ survival is 1 - q90 = 1 - 0.25/1.125
    r = survival_ratios(short)
    assert r.loc[r["age"] == 90, "survival"].iloc[0] == pytest.approx(1 - 0.25 / 1.125)


def test_persons_base_and_female_share():
    """A persons base takes persons mortality; births = asfr x female share x mean persons exposure."""
    base = _base({"persons": {30: 1000}})
    mort = _mortality(sexes=("persons",), qx=0.0)
    fert = pd.DataFrame({"age": [30, 31], "asfr": [0.1, 0.1]})
    out = cohort_component(base, mort, fert, start_year=2020, end_year=2021, female_share=0.5)
    # exposure: 0.5*(1000+0)/2 at 30 and 0.5*(0+1000)/2 at 31 -> births 0.1*250 + 0.1*250 = 50
    assert _cell(out, 2021, "persons", 0) == pytest.approx(50.0)
    assert set(out["sex"]) == {"persons"}
    with pytest.raises(InputError, match="persons"):
        cohort_component(base, _mortality(qx=0.0), start_year=2020, end_year=2021)


def test_no_fertility_age_zero_empty_and_ids_projected_separately():
    base = pd.concat([_base({"F": {0: 10, 40: 10}, "M": {0: 10}}).assign(pcn_code=c) for c in ("P1", "P2")])
    base.loc[base["pcn_code"] == "P2", "population"] *= 2
    out = cohort_component(base, _mortality(qx=0.01), start_year=2020, end_year=2025)
    assert list(out.columns) == ["pcn_code", "year", "sex", "age", "population"]
    later = out[out["year"] > 2020]
    assert (later.loc[later["age"] == 0, "population"] == 0).all()
    p1 = out[out["pcn_code"] == "P1"]["population"].to_numpy()
    p2 = out[out["pcn_code"] == "P2"]["population"].to_numpy()
    assert np.allclose(p2, 2 * p1)


def test_year_specific_rates_apply_to_the_step_ending_in_that_year():
    base = _base({"F": {50: 1000}, "M": {50: 1000}})
    mort = pd.concat([_mortality(qx=0.0).assign(year=2021), _mortality(qx=0.5).assign(year=2022)])
    out = cohort_component(base, mort, start_year=2020, end_year=2023)
    assert _cell(out, 2021, "F", 51) == pytest.approx(1000)  # 2021 rates: no deaths
    assert _cell(out, 2022, "F", 52) == pytest.approx(500)  # L52/L51 = 1 - q at a constant q = 0.5
    assert _cell(out, 2023, "F", 53) == pytest.approx(250)  # after the last year: carried forward


def test_migration_rates_and_negative_floor():
    base = _base({"F": {10: 100}, "M": {10: 100}})
    mort = _mortality(qx=0.0)
    rates = pd.DataFrame({"sex": ["F", "M"], "age": [10, 10], "net_migration_rate": [0.1, -2.0]})
    out = cohort_component(base, mort, migration=rates, start_year=2020, end_year=2021)
    # rate x population of that age at the start; arriving aged 10 at year end; no deaths
    assert _cell(out, 2021, "F", 10) == pytest.approx(10.0)
    assert _cell(out, 2021, "F", 11) == pytest.approx(100.0)
    assert _cell(out, 2021, "M", 10) == 0.0  # -200 migrants where nobody is left: floored at zero


def test_bad_input_is_named():
    base = _base({"F": {0: 1}, "M": {0: 1}})
    with pytest.raises(InputError, match="population"):
        cohort_component(base.assign(population=-1.0), _mortality(qx=0.0), start_year=2020, end_year=2021)
    with pytest.raises(InputError, match="every age"):
        cohort_component(base[base["age"] != 40], _mortality(qx=0.0), start_year=2020, end_year=2021)
    with pytest.raises(InputError, match="per 1,000"):
        cohort_component(base, _mortality(qx=0.0), pd.DataFrame({"age": [30], "asfr": [60.0]}),
                         start_year=2020, end_year=2021)
    with pytest.raises(InputError, match="qx"):
        cohort_component(base, _mortality(qx=1.5), start_year=2020, end_year=2021)


def test_persons_mortality_weights():
    table = pd.concat([_mortality(sexes=("F",), top=100, mx=0.01), _mortality(sexes=("M",), top=100, mx=0.03)])
    equal = persons_mortality(table, weights="equal")
    assert np.allclose(equal["mx"], 0.02)
    stationary = persons_mortality(table)
    # women survive longer, so their weight (and the persons rate's closeness to theirs) grows with age
    assert stationary["mx"].iloc[90] < stationary["mx"].iloc[1] < 0.02 + 1e-3
    assert set(stationary["sex"]) == {"persons"}


def test_life_table_matches_ons_life_expectancy(real_data):
    lt = pd.read_csv(real_data / "life_tables" / "nlt_UK_2017-2019_extracted.csv")
    ours = life_table(lt)
    e0 = ours[ours["age"] == 0].set_index("sex")["ex"]
    ons = lt[lt["age"] == 0].set_index("sex")["ex"]
    assert np.allclose(e0.sort_index(), ons.sort_index(), atol=0.05)  # 79.37 (M) and 83.06 (F) years


# ---------------------------------------------------------------------------------------------------------
# bands, apportion, constrain, project_pcn
# ---------------------------------------------------------------------------------------------------------


def _area(years=(2020, 2021, 2022), sexes=("F", "M"), seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame([(y, s, a, float(rng.uniform(100, 3000))) for y in years for s in sexes for a in AGES],
                        columns=["year", "sex", "age", "population"])


def _lists(counts: np.ndarray) -> pd.DataFrame:
    """counts[practice, sex, band] -> a registered list in 5-year bands (practices P0.. in 2 PCNs)."""
    rows = []
    for p in range(counts.shape[0]):
        for i, sex in enumerate(("F", "M")):
            for b, band in enumerate(AGE_BANDS):
                rows.append((f"P{p}", f"PCN{p % 2}", sex, band, float(counts[p, i, b])))
    return pd.DataFrame(rows, columns=["practice_code", "pcn_code", "sex", "age_band", "population"])


def _banded(area: pd.DataFrame, cell=("sex",)) -> pd.Series:
    return area.assign(age_band=to_age_band(area["age"])).groupby(["year", *cell, "age_band"])["population"].sum()


def test_to_age_band_and_single_years_keep_band_totals():
    assert list(to_age_band(pd.Series([0, 4, 5, 89, 90]))) == ["0-4", "0-4", "5-9", "85-89", "90+"]
    banded = pd.DataFrame({"practice_code": "A", "sex": ["F", "F", "M"], "age_band": ["0-4", "90+", "0-4"],
                           "population": [10.0, 3.0, 6.0]})
    shape = pd.DataFrame({"sex": ["F"] * 5 + ["M"] * 5, "age": list(range(5)) * 2,
                          "population": [1, 1, 2, 2, 4, 0, 0, 0, 0, 0]})
    out = single_years(banded, shape)
    f = out[out["sex"] == "F"].set_index("age")["population"]
    assert f.loc[0:4].tolist() == pytest.approx([1, 1, 2, 2, 4])  # the shape within the band: 10 x (1,1,2,2,4)/10
    assert f.loc[90] == 3.0
    m = out[out["sex"] == "M"].set_index("age")["population"]
    assert m.loc[0:4].tolist() == pytest.approx([1.2] * 5)  # zero shape -> spread evenly


def test_apportion_hand_example():
    """Two practices, one band: shares 1/4 and 3/4 of the area's cell in each year."""
    area = pd.DataFrame({"year": [2020, 2020, 2021, 2021], "sex": "F", "age": [0, 1, 0, 1],
                         "population": [40.0, 60.0, 50.0, 50.0]})
    lists = pd.DataFrame({"practice_code": ["A", "B"], "sex": "F", "age_band": "0-4", "population": [10.0, 30.0]})
    out = apportion(area, lists)
    got = out.set_index(["practice_code", "year"])["population"]
    assert got[("A", 2020)] == pytest.approx(25.0) and got[("B", 2020)] == pytest.approx(75.0)
    assert got[("A", 2021)] == pytest.approx(25.0) and got[("B", 2021)] == pytest.approx(75.0)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(counts=st.lists(st.integers(0, 500), min_size=3 * 2 * 19, max_size=3 * 2 * 19),
       persons=st.booleans(), seed=st.integers(0, 1000))
def test_apportion_conserves_every_cell(counts, persons, seed):
    lists = _lists(np.array(counts, dtype=float).reshape(3, 2, 19))
    if lists["population"].sum() == 0:
        lists.loc[0, "population"] = 1.0
    area = _area(sexes=("persons",) if persons else ("F", "M"), seed=seed)
    out = apportion(area, lists)
    assert (out["population"] >= 0).all()
    cell = () if persons else ("sex",)
    got = out.groupby(["year", *cell, "age_band"])["population"].sum()
    want = _banded(area, cell)
    assert np.allclose(got.reindex(want.index).to_numpy(), want.to_numpy(), rtol=1e-12, atol=1e-9)
    # PCN level equals the sum of its practices
    pcn = apportion(area, lists, level="pcn_code").set_index(["pcn_code", "year", "sex", "age_band"])["population"]
    summed = out.groupby(["pcn_code", "year", "sex", "age_band"])["population"].sum()
    assert np.allclose(pcn.reindex(summed.index).to_numpy(), summed.to_numpy(), rtol=1e-12, atol=1e-9)


def test_apportion_persons_split_by_registered_sex_ratio():
    area = pd.DataFrame({"year": 2020, "sex": "persons", "age": [70], "population": [1000.0]})
    lists = pd.DataFrame({"practice_code": ["A", "A", "B", "B"], "sex": ["F", "M", "F", "M"],
                          "age_band": "70-74", "population": [30.0, 10.0, 30.0, 30.0]})
    out = apportion(area[area["age"] == 70], lists)
    got = out.set_index(["practice_code", "sex"])["population"]
    # registered 70-74: 100 people, 60 F / 40 M -> A gets 300 F and 100 M, B 300 F and 300 M of the 1,000
    assert got[("A", "F")] == pytest.approx(300) and got[("A", "M")] == pytest.approx(100)
    assert got[("B", "F")] == pytest.approx(300) and got[("B", "M")] == pytest.approx(300)


def test_apportion_inflation_factor_returns_list_scale():
    """With the area's residents at the list date, registered_population in the base year is the list itself."""
    rng = np.random.default_rng(3)
    lists = _lists(rng.integers(50, 500, (4, 2, 19)).astype(float))
    area = _area(seed=4)
    resident = area[area["year"] == 2020]
    out = apportion(area, lists, resident_population=resident)
    base = out[out["year"] == 2020].merge(lists, on=["practice_code", "sex", "age_band"], suffixes=("", "_list"))
    assert np.allclose(base["registered_population"], base["population_list"], rtol=1e-12)
    # the factor is the cell's registered total over its residents; population still sums to the area
    cell = lists.groupby(["sex", "age_band"])["population"].sum() / _banded(resident).droplevel("year")
    f = out.drop_duplicates(["sex", "age_band"]).set_index(["sex", "age_band"])["inflation_factor"]
    assert np.allclose(f.reindex(cell.index), cell)
    assert np.allclose(out.groupby(["year", "sex", "age_band"])["population"].sum().to_numpy(),
                       _banded(area).to_numpy())


def test_apportion_empty_cell_falls_back_and_conserves():
    area = pd.DataFrame({"year": 2020, "sex": "F", "age": [0, 90], "population": [100.0, 50.0]})
    lists = pd.DataFrame({"practice_code": ["A", "B"], "sex": "F", "age_band": "0-4", "population": [1.0, 3.0]})
    out = apportion(area, lists)
    old = out[out["age_band"] == "90+"].set_index("practice_code")["population"]
    assert old.sum() == pytest.approx(50.0)  # nobody registered 90+: shared by all-ages share (1:3)
    assert old["A"] == pytest.approx(12.5)


def test_constrain_sums_to_area_and_keeps_unit_ratios():
    units = pd.concat([_area(seed=1).assign(pcn_code="X"), _area(seed=2).assign(pcn_code="Y")])
    area = _area(seed=5)
    out = constrain(units, area)
    total = out.groupby(["year", "sex", "age"])["population"].sum()
    assert np.allclose(total.to_numpy(), area.set_index(["year", "sex", "age"])["population"].to_numpy())
    wide = out.pivot_table(index=["year", "sex", "age"], columns="pcn_code", values="population")
    raw = out.pivot_table(index=["year", "sex", "age"], columns="pcn_code", values="unconstrained_population")
    assert np.allclose(wide["X"] / wide["Y"], raw["X"] / raw["Y"])


def test_project_pcn_constrained_and_apportioned_sum_to_area():
    rng = np.random.default_rng(7)
    lists = _lists(rng.integers(20, 400, (4, 2, 19)).astype(float))
    lt = _mortality(top=100, mx=lambda a: 0.0002 * np.exp(0.085 * a))
    area = cohort_component(_area(years=(2020,), sexes=("persons",)),
                            _mortality(sexes=("persons",), top=100, mx=lambda a: 0.0002 * np.exp(0.085 * a)),
                            pd.DataFrame({"age": range(20, 40), "asfr": 0.09}), start_year=2020, end_year=2030)
    out = project_pcn(lists, lt, pd.DataFrame({"age": range(20, 40), "asfr": 0.09}), None, area, end_year=2030)
    assert list(out.columns) == ["pcn_code", "year", "sex", "age", "population", "unconstrained_population",
                                 "apportioned_population"]
    want = area.set_index(["year", "age"])["population"]
    for col in ("population", "apportioned_population"):
        got = out.groupby(["year", "age"])[col].sum()
        assert np.allclose(got.reindex(want.index).to_numpy(), want.to_numpy(), rtol=1e-10)
    base = out[out["year"] == 2020]
    assert np.allclose(base["population"], base["apportioned_population"])  # same shares at the list date
    # unconstrained base = the PCN's own list, split into single years
    own = base.groupby("pcn_code")["unconstrained_population"].sum()
    assert np.allclose(own.to_numpy(), lists.groupby("pcn_code")["population"].sum().to_numpy())


# ---------------------------------------------------------------------------------------------------------
# growth, scenarios, demand, charts
# ---------------------------------------------------------------------------------------------------------


def _hand_projection() -> pd.DataFrame:
    """2020: 10y 100, 30y 300, 70y 50, 80y 50.  2041: 10y 100, 30y 200, 70y 100, 85y 50 (one unit, persons)."""
    rows = [(2020, 10, 100), (2020, 30, 300), (2020, 70, 50), (2020, 80, 50),
            (2041, 10, 100), (2041, 30, 200), (2041, 70, 100), (2041, 85, 50)]
    return pd.DataFrame([(y, "persons", a, float(p)) for y, a, p in rows], columns=["year", "sex", "age", "population"])


def test_growth_hand_example():
    out = growth(_hand_projection(), ages=PACK_AGE_RANGES, target_year=2041).set_index("ages")
    assert list(out.index) == ["all ages", "65+", "75+", "85+"]
    # 65+: 100 -> 150 (+50, +50%); 75+: 50 -> 50 (0%); 85+: 0 -> 50 (no base: NaN %); all: 500 -> 450 (-10%)
    assert out.loc["65+", ["base_population", "target_population", "change", "percent_change"]].tolist() == \
        pytest.approx([100, 150, 50, 50])
    assert out.loc["75+", "percent_change"] == pytest.approx(0.0)
    assert np.isnan(out.loc["85+", "percent_change"]) and out.loc["85+", "change"] == 50
    assert out.loc["all ages", "percent_change"] == pytest.approx(-10.0)
    # old-age dependency ratio: 65+ per 100 aged 16-64 -> 2020 100/300 = 33.3, 2041 150/200 = 75
    assert out["base_old_age_dependency_ratio"].iloc[0] == pytest.approx(100 / 3)
    assert out["old_age_dependency_ratio"].iloc[0] == pytest.approx(75.0)
    assert (out["base_year"] == 2020).all() and (out["target_year"] == 2041).all()


def test_growth_groups_by_id_columns():
    two = pd.concat([_hand_projection().assign(pcn_code="A", scenario="principal"),
                     _hand_projection().assign(pcn_code="B", scenario="principal",
                                               population=lambda d: d["population"] * 2)])
    out = growth(two, ages=["65+", "16-64"])
    assert list(out.columns[:3]) == ["pcn_code", "scenario", "ages"]
    b = out[(out["pcn_code"] == "B") & (out["ages"] == "16-64")].iloc[0]
    assert b["base_population"] == 600 and b["target_population"] == 400


def test_scenarios_principal_equals_projection_and_range_brackets_it():
    base = _base({"F": {a: 100 for a in range(91)}, "M": {a: 100 for a in range(91)}})
    mort = _mortality(top=100, mx=lambda a: 0.0002 * np.exp(0.085 * a))
    mig = pd.DataFrame({"sex": ["F", "M"] * 2, "age": [25, 25, 70, 70], "net_migration": [50.0, 50.0, -20, -20]})
    out = project_scenarios(base, mort, None, mig, start_year=2020, end_year=2030)
    assert set(out["scenario"]) == set(VARIANTS)
    plain = cohort_component(base, mort, None, mig, start_year=2020, end_year=2030)
    assert np.allclose(out[out["scenario"] == "principal"]["population"].to_numpy(), plain["population"].to_numpy())
    band = scenario_range(out, (65, None))
    assert ((band["low"] <= band["principal"] + 1e-9) & (band["principal"] <= band["high"] + 1e-9)).all()
    later = band[band["year"] == 2030].iloc[0]
    assert later["low"] < later["principal"] < later["high"]
    # the force of mortality is scaled: qx' = 1 - (1 - qx)^k, mx' = k mx
    scaled = scale_mortality(pd.DataFrame({"sex": "F", "age": [0], "qx": [0.19], "mx": [0.2]}), 2.0)
    assert scaled["qx"].iloc[0] == pytest.approx(1 - 0.81**2) and scaled["mx"].iloc[0] == pytest.approx(0.4)


def test_fertility_schedule_and_residual_migration_round_trip():
    fert = fertility_schedule(1.85, mean_age=29.5, sd=5.8)
    assert fert["asfr"].sum() == pytest.approx(1.85)
    assert 28.5 < float((fert["age"] + 0.5) @ fert["asfr"]) / 1.85 < 30.5
    base = _base({"F": {a: 1000 for a in range(91)}, "M": {a: 900 for a in range(91)}})
    mort = _mortality(top=100, mx=lambda a: 0.0002 * np.exp(0.085 * a))
    mig = pd.DataFrame({"sex": ["F", "M"], "age": [30, 75], "net_migration": [40.0, -15.0]})
    one = cohort_component(base, mort, fert, mig, start_year=2019, end_year=2020)
    est = residual_migration(one[one["year"] == 2019], one[one["year"] == 2020], mort, fert)
    got = est.set_index(["sex", "age"])["net_migration"]
    assert got[("F", 30)] == pytest.approx(40.0) and got[("M", 75)] == pytest.approx(-15.0)
    assert np.allclose(got.drop([("F", 30), ("M", 75)]).to_numpy(), 0.0, atol=1e-9)


def _extract() -> pd.DataFrame:
    return pd.DataFrame({
        "sex": ["F", "F", "M", "M", "U"],
        "age": [70, 72, 70, 30, 50],
        "ltc_diabetes": [True, False, True, False, True],
        "ltc_copd": [False, False, True, False, False],
        "gp_contacts": [10, 6, 4, 1, 3],
    })


def test_prevalence_and_contact_rates_from_an_extract():
    prev = prevalence_rates(_extract())
    assert prev.attrs["excluded_unknown_sex"] == 1
    f70 = prev[(prev["sex"] == "F") & (prev["age_band"] == "70-74") & (prev["condition"] == "ltc_diabetes")]
    assert f70[["patients", "cases", "prevalence"]].iloc[0].tolist() == pytest.approx([2, 1, 0.5])
    contacts = contact_rates(_extract()).set_index(["sex", "age_band"])
    assert contacts.loc[("F", "70-74"), "contacts_per_person"] == pytest.approx(8.0)


def test_projected_registers_and_contacts_hand_example():
    proj = pd.DataFrame({"year": [2020, 2020, 2041, 2041], "sex": "F", "age": [30, 72, 30, 72],
                         "population": [1000.0, 500.0, 1000.0, 1000.0]})
    prev = pd.DataFrame({"sex": "F", "age_band": ["30-34", "70-74"], "condition": "ltc_diabetes",
                         "prevalence": [0.02, 0.2]})
    reg = project_registers(proj, prev).set_index("year")
    # 2020: 1000 x 0.02 + 500 x 0.2 = 120; 2041: 20 + 200 = 220
    assert reg.loc[2020, "register"] == pytest.approx(120) and reg.loc[2041, "register"] == pytest.approx(220)
    rates = pd.DataFrame({"sex": "F", "age_band": ["30-34", "70-74"], "contacts_per_person": [2.0, 8.0]})
    con = project_contacts(proj, rates).set_index("year")
    # 2020: 2000 + 4000 = 6000 a year over 1,500 people -> 6000 / (365.25/7) / 1.5 = 76.66 per 1,000 a week
    weekly = 6000 / (365.25 / 7)
    assert con.loc[2020, "contacts_per_week"] == pytest.approx(weekly)
    assert con.loc[2020, "contacts_per_1000_per_week"] == pytest.approx(weekly / 1.5)
    assert con.loc[2020, "access_standard_per_1000_per_week"] == 75
    assert con.loc[2020, "standard_contacts_per_week"] == pytest.approx(112.5)
    assert con.loc[2041, "contacts_per_1000_per_week"] > con.loc[2020, "contacts_per_1000_per_week"]  # older


def test_charts_return_figures():
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    from popheal.plots.fan import fan_chart
    from popheal.plots.pyramid import pyramid_chart

    area = _area(years=(2020, 2041), seed=9)
    pcn = _area(years=(2020, 2041), seed=10)
    fig = pyramid_chart(pcn, area, pcn_label="Demo PCN", area_label="Demo area")
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any("outline" in t for t in labels) and any("females" in t for t in labels)
    plt.close(fig)
    base = _base({"persons": {a: 100 for a in range(91)}})
    mort = _mortality(sexes=("persons",), top=100, mx=lambda a: 0.0002 * np.exp(0.085 * a))
    mig = pd.DataFrame({"sex": "persons", "age": [70], "net_migration": [-10.0]})
    scen = project_scenarios(base, mort, None, mig, start_year=2020, end_year=2041)
    fig = fan_chart(scen, (65, None), reference=pd.DataFrame({"year": [2020, 2041], "population": [2600, 2500]}),
                    label="Demo PCN")
    assert isinstance(fig, Figure)
    plt.close(fig)


def test_project_pcn_with_area_migration_counts_and_single_year_lists():
    rng = np.random.default_rng(11)
    lists = pd.DataFrame([(p, pcn, s, a, float(rng.integers(0, 60))) for p, pcn in (("A", "X"), ("B", "Y"))
                          for s in ("F", "M") for a in AGES],
                         columns=["practice_code", "pcn_code", "sex", "age", "population"])
    mort_p = _mortality(sexes=("persons",), top=100, mx=lambda a: 0.0002 * np.exp(0.085 * a))
    mig = pd.DataFrame({"sex": "persons", "age": AGES, "net_migration": np.where(AGES < 40, 30.0, -10.0)})
    area = cohort_component(_area(years=(2020,), sexes=("persons",)), mort_p, None, mig, start_year=2020,
                            end_year=2025)
    mort = _mortality(top=100, mx=lambda a: 0.0002 * np.exp(0.085 * a))
    out = project_pcn(lists, mort, None, mig, area, end_year=2025)
    got = out.groupby(["year", "age"])["population"].sum()
    assert np.allclose(got.to_numpy(), area.set_index(["year", "age"])["population"].to_numpy(), rtol=1e-10)
    assert set(out["pcn_code"]) == {"X", "Y"} and (out["population"] >= 0).all()
