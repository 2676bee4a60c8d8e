"""Projected demand: long-term condition registers and GP contacts at current age/sex-specific rates."""

from __future__ import annotations

import numpy as np
import pandas as pd

from popheal.io.errors import InputError
from popheal.projection._apportion import _id_columns
from popheal.projection._bands import band_ages, to_age_band
from popheal.projection._lifetable import _sex_kind

__all__ = ["ACCESS_STANDARD_PER_1000_PER_WEEK", "WEEKS_PER_YEAR", "contact_rates", "prevalence_rates",
           "project_contacts", "project_registers"]

#: Dudley's outcomes framework access standard: at least 75 GP-practice contacts per 1,000 population per
#: week (reference/seed-facts.md).
ACCESS_STANDARD_PER_1000_PER_WEEK = 75.0
#: Mean weeks in a year (365.25 / 7).
WEEKS_PER_YEAR = 365.25 / 7.0


def _extract_cells(extract: pd.DataFrame, by, needed) -> tuple[pd.DataFrame, int]:
    missing = [c for c in ("sex", "age", *needed) if c not in extract.columns]
    if missing:
        raise InputError("patient extract", f"missing column(s) {missing}", column=missing[0])
    known = extract["sex"].astype(str).isin(["F", "M"])
    table = extract.loc[known].copy()
    table["sex"] = table["sex"].astype(str)
    table["age_band"] = to_age_band(pd.to_numeric(table["age"]).astype(int).clip(lower=0))
    return table, int((~known).sum())


def prevalence_rates(extract: pd.DataFrame, conditions=None, by=("sex", "age_band")) -> pd.DataFrame:
    """Recorded prevalence of each long-term condition by sex and 5-year age band, from a patient extract.

    ``extract`` has ``sex`` (F/M/U), ``age`` and bool ``ltc_*`` columns (popheal.io.extract_schema);
    ``conditions`` defaults to every ``ltc_*`` column. Patients of unknown sex (U) are left out (their
    number is in ``attrs["excluded_unknown_sex"]``). Returns ``sex, age_band, condition, patients, cases,
    prevalence`` (a fraction 0-1). An aggregate table: it passes disclosure control before it is shown.
    """
    conditions = [c for c in extract.columns if str(c).startswith("ltc_")] if conditions is None else list(conditions)
    if not conditions:
        raise InputError("patient extract", "has no ltc_* condition columns", column="ltc_*")
    table, excluded = _extract_cells(extract, by, conditions)
    flags = table[conditions].astype(bool).astype(int)
    grouped = pd.concat([table[list(by)], flags], axis=1).groupby(list(by), sort=True)
    cases = grouped.sum().reset_index().melt(id_vars=list(by), var_name="condition", value_name="cases")
    patients = table.groupby(list(by), sort=True).size().rename("patients").reset_index()
    out = cases.merge(patients, on=list(by), how="left")
    out["prevalence"] = out["cases"] / out["patients"]
    out = out[[*by, "condition", "patients", "cases", "prevalence"]]
    out.attrs["excluded_unknown_sex"] = excluded
    return out


def contact_rates(extract: pd.DataFrame, column: str = "gp_contacts", by=("sex", "age_band")) -> pd.DataFrame:
    """GP contacts per person per year by sex and 5-year age band, from a patient extract (last 12 months).

    Returns ``sex, age_band, patients, contacts, contacts_per_person``; unknown sex left out (counted in
    ``attrs["excluded_unknown_sex"]``).
    """
    table, excluded = _extract_cells(extract, by, [column])
    counts = pd.to_numeric(table[column], errors="coerce")
    if counts.isna().any() or (counts < 0).any():
        raise InputError("patient extract", "contacts must be counts >= 0", column=column,
                         rows=table.index[(counts.isna() | (counts < 0)).to_numpy()])
    out = table.assign(_c=counts).groupby(list(by), sort=True).agg(patients=("_c", "size"), contacts=("_c", "sum"))
    out = out.reset_index()
    out["contacts_per_person"] = out["contacts"] / out["patients"]
    out.attrs["excluded_unknown_sex"] = excluded
    return out


def _join_rates(projection: pd.DataFrame, rates: pd.DataFrame, rate_col: str, value: str, keys=()):
    """Attach age/sex rates to the projection (banding it if the rates are banded; matching sexes)."""
    if value not in projection.columns or "year" not in projection.columns:
        raise InputError("projection", f"needs year and {value} columns", column=value)
    if rate_col not in rates.columns:
        raise InputError("rates", f"needs a {rate_col} column", column=rate_col)
    proj = projection.copy()
    ids = _id_columns(proj)
    age_col = "age_band" if "age_band" in rates.columns else "age"
    if age_col == "age_band" and "age_band" not in proj.columns:
        proj["age_band"] = to_age_band(pd.to_numeric(proj["age"]).astype(int))
    rates = rates.copy()
    if age_col == "age_band":
        rates["age_band"] = rates["age_band"].astype(str)
        for lab in pd.unique(rates["age_band"]):
            band_ages(lab)  # validates the labels
    cell = [age_col]
    if "sex" in rates.columns and "sex" in proj.columns:
        rates["sex"] = rates["sex"].astype(str)
        proj["sex"] = proj["sex"].astype(str)
        p_kinds = {_sex_kind(s) for s in proj["sex"]}
        r_kinds = {_sex_kind(s) for s in rates["sex"]}
        if p_kinds == {"persons"} and r_kinds <= {"F", "M"}:
            if "patients" not in rates.columns:
                raise InputError("rates", "a persons projection needs patients (the rates' denominators) to "
                                 "combine F and M rates", column="patients")
            num = rates[rate_col] * rates["patients"]
            rates = rates.assign(_num=num).groupby([*keys, age_col], as_index=False)[["_num", "patients"]].sum()
            rates[rate_col] = np.where(rates["patients"] > 0, rates["_num"] / rates["patients"], 0.0)
        elif r_kinds == {"persons"} and p_kinds <= {"F", "M"}:
            rates = rates.drop(columns="sex")
        else:
            cell = ["sex", age_col]
    merged = proj.merge(rates[[*keys, *cell, rate_col]], on=cell, how="left")
    missing = merged[rate_col].isna() & (merged[value] > 0)
    if missing.any():
        first = merged.loc[missing, cell].drop_duplicates().head(5).to_dict("records")
        raise InputError("rates", f"no rate for projected cells such as {first}", column=rate_col)
    merged[rate_col] = merged[rate_col].fillna(0.0)
    return merged, ids


def project_registers(projection: pd.DataFrame, prevalence: pd.DataFrame, *, value: str = "population"):
    """Projected register sizes: current age/sex-specific prevalence x projected population, summed.

    ``prevalence``: ``[sex,] age_band (or age), condition, prevalence`` (fraction; e.g. from
    :func:`prevalence_rates`). Rates are held at their current values, so the change reflects population
    size and age/sex structure only (no trend in incidence, diagnosis or survival).

    Returns ``[ids,] year, condition, population, register, prevalence`` (crude, fraction).
    """
    if "condition" not in prevalence.columns:
        raise InputError("prevalence", "needs a condition column", column="condition")
    frames = []
    for condition, part in prevalence.groupby("condition", sort=True):
        merged, ids = _join_rates(projection, part.drop(columns="condition"), "prevalence", value)
        merged["_cases"] = merged[value] * merged["prevalence"]
        agg = merged.groupby([*ids, "year"], as_index=False).agg(population=(value, "sum"),
                                                                  register=("_cases", "sum"))
        agg.insert(len(ids) + 1, "condition", condition)
        frames.append(agg)
    out = pd.concat(frames, ignore_index=True)
    out["prevalence"] = np.where(out["population"] > 0, out["register"] / out["population"], np.nan)
    ids = [c for c in out.columns if c not in ("year", "condition", "population", "register", "prevalence")]
    return out.sort_values([*ids, "condition", "year"], kind="stable").reset_index(drop=True)


def project_contacts(
    projection: pd.DataFrame,
    rates: pd.DataFrame,
    *,
    standard: float = ACCESS_STANDARD_PER_1000_PER_WEEK,
    value: str = "population",
) -> pd.DataFrame:
    """Projected GP contacts at current age/sex-specific rates, per week and per 1,000 per week.

    ``rates``: ``[sex,] age_band (or age), contacts_per_person`` (per year; e.g. from :func:`contact_rates`).

    Returns ``[ids,] year, population, contacts_per_year, contacts_per_week, contacts_per_1000_per_week``
    (demand at today's rates: it rises as the population ages), ``access_standard_per_1000_per_week``
    (``standard``; 75, Dudley outcomes framework), ``standard_contacts_per_week`` (what the standard
    requires for the projected population), ``contacts_needed_per_week`` (the larger of demand and the
    standard) and ``demand_to_standard`` (demand per 1,000 per week over the standard).
    """
    merged, ids = _join_rates(projection, rates, "contacts_per_person", value)
    merged["_contacts"] = merged[value] * merged["contacts_per_person"]
    out = merged.groupby([*ids, "year"], as_index=False).agg(population=(value, "sum"),
                                                              contacts_per_year=("_contacts", "sum"))
    out["contacts_per_week"] = out["contacts_per_year"] / WEEKS_PER_YEAR
    with np.errstate(divide="ignore", invalid="ignore"):
        out["contacts_per_1000_per_week"] = np.where(out["population"] > 0,
                                                     1000.0 * out["contacts_per_week"] / out["population"], np.nan)
    out["access_standard_per_1000_per_week"] = float(standard)
    out["standard_contacts_per_week"] = standard * out["population"] / 1000.0
    out["contacts_needed_per_week"] = np.maximum(out["contacts_per_week"], out["standard_contacts_per_week"])
    out["demand_to_standard"] = out["contacts_per_1000_per_week"] / standard
    return out
