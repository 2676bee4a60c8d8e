"""Input checks and small vectorised helpers shared by the referral analyses (no statistics here)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from popheal.io.bands import AGE_BANDS, age_band
from popheal.io.errors import InputError, first_rows, require_columns

__all__ = [
    "AGE_BANDS",
    "POPULATION",
    "REFERRALS",
    "SEXES",
    "as_list",
    "band_ages",
    "breakdown_columns",
    "check_population",
    "check_referrals",
    "require_columns",
    "require_frame",
    "select_levels",
    "years_covered",
]

#: How the inputs are named in error messages (the analyses receive frames, not files).
REFERRALS = "referral extract"
POPULATION = "registered list (5-year bands)"

SEXES: tuple[str, ...] = ("F", "M")


def as_list(columns: str | Sequence[str] | None) -> list[str]:
    """A column argument (None, one name or several) as a list of names."""
    if columns is None:
        return []
    if isinstance(columns, str):
        return [columns]
    return list(columns)


def require_frame(frame, what: str, where: str) -> pd.DataFrame:
    """Check that ``frame`` is a non-empty DataFrame."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{where}: expected the {what} as a pandas DataFrame, got {type(frame).__name__}")
    if len(frame) == 0:
        raise InputError(what, f"{where}: the {what} has no rows")
    return frame


def band_ages(age: pd.Series) -> pd.Categorical:
    """Five-year age bands "0-4" ... "85-89", "90+" (ordered categorical; missing age stays missing)."""
    return pd.Categorical(age_band(age))


def check_referrals(referrals: pd.DataFrame, columns: Sequence[str], where: str) -> None:
    """Validate the referral-extract columns an analysis uses (types and values, DESIGN.md rules)."""
    require_frame(referrals, REFERRALS, where)
    require_columns(referrals, columns, REFERRALS, where)
    if "practice_code" in columns:
        code = referrals["practice_code"]
        bad = code.isna() | (code.astype("string").str.strip() == "")
        if bad.any():
            raise InputError(REFERRALS, "a practice code must not be empty", "practice_code", first_rows(bad))
    if "patient_age" in columns:
        age = referrals["patient_age"]
        if age.dtype == bool or not (pd.api.types.is_numeric_dtype(age) or age.isna().all()):
            raise InputError(REFERRALS, f"patient_age must be a number (it is {age.dtype})", "patient_age")
        bad = (age < 0) | (age > 120)
        if bad.any():
            raise InputError(REFERRALS, "patient_age must lie between 0 and 120", "patient_age", first_rows(bad))
    if "patient_sex" in columns:
        bad = ~referrals["patient_sex"].isin(["F", "M", "U"])
        if bad.any():
            raise InputError(REFERRALS, 'patient_sex must be "F", "M" or "U"', "patient_sex", first_rows(bad))
    if "referral_date" in columns:
        dates = pd.to_datetime(referrals["referral_date"], errors="coerce")
        bad = dates.isna()
        if bad.any():
            raise InputError(REFERRALS, "referral_date must be a date (YYYY-MM-DD)", "referral_date",
                             first_rows(bad))


def check_population(
    population: pd.DataFrame, by: Sequence[str], strata: Sequence[str], where: str
) -> pd.DataFrame:
    """Validate the registered list (``practice_code, sex, age_band, population``) and return a clean copy.

    ``by`` are the unit columns (``practice_code``, or others present in the list), ``strata`` the
    standardisation columns; the copy has those columns and ``population`` (float).
    """
    require_frame(population, POPULATION, where)
    require_columns(population, [*by, *strata, "population"], POPULATION, where)
    # rows are unique on the list's own strata; those not standardised for are summed over below
    own = [c for c in ("sex", "age_band") if c in population.columns and c not in strata]
    pop = population.loc[:, [*by, *strata, *own, "population"]].copy()
    count = pop["population"]
    if count.dtype == bool or not pd.api.types.is_numeric_dtype(count):
        raise InputError(POPULATION, f"population must be a number (it is {count.dtype})", "population")
    bad = count.isna() | (count < 0)
    if bad.any():
        raise InputError(POPULATION, "population must be zero or more (not missing)", "population",
                         first_rows(bad))
    if "sex" in strata:
        bad = ~pop["sex"].isin(SEXES)
        if bad.any():
            raise InputError(POPULATION, 'sex must be "F" or "M" in the registered list', "sex", first_rows(bad))
    if "age_band" in strata:
        bad = ~pop["age_band"].astype("string").isin(AGE_BANDS).fillna(False).astype(bool)
        if bad.any():
            raise InputError(POPULATION, f"age_band must be one of {', '.join(AGE_BANDS)}", "age_band",
                             first_rows(bad))
        pop["age_band"] = pd.Categorical(pop["age_band"].astype(str), categories=list(AGE_BANDS), ordered=True)
    for column in by:
        bad = pop[column].isna()
        if bad.any():
            raise InputError(POPULATION, f"{column} must not be missing", column, first_rows(bad))
        pop[column] = pop[column].astype(str)
    duplicated = pop.duplicated([*by, *strata, *own], keep=False)
    if duplicated.any():
        raise InputError(POPULATION, f"one row per {', '.join([*by, *strata, *own])} (this combination is "
                         "repeated)", by[0] if by else None, first_rows(duplicated))
    pop["population"] = pop["population"].astype(float)
    if own:
        pop = pop.groupby([*by, *strata], observed=True, as_index=False)["population"].sum()
    return pop


def years_covered(dates: pd.Series) -> float:
    """Years covered by a referral extract: whole calendar months from the first to the last, over 12.

    Months rather than days so that an extract of 2019-04-01 to 2021-03-31 covers exactly 2 years whether or not
    a referral falls on its first or last day.
    """
    months = pd.to_datetime(dates).dt.to_period("M")
    first, last = months.min(), months.max()
    return ((last.year - first.year) * 12 + (last.month - first.month) + 1) / 12


def breakdown_columns(specialty, priority) -> list[str]:
    """The breakdown columns asked for (``specialty`` and/or ``priority`` when not None/False)."""
    return [name for name, arg in (("specialty", specialty), ("priority", priority))
            if arg is not None and arg is not False]


def select_levels(frame: pd.DataFrame, column: str, arg) -> pd.Series:
    """Rows kept for a breakdown argument: True/"each"/"all" keeps every level; a name or list keeps those."""
    if arg is True or (isinstance(arg, str) and arg in ("each", "all")):
        return pd.Series(True, index=frame.index)
    wanted = [arg] if isinstance(arg, str) else list(arg)
    unknown = sorted(set(wanted) - set(frame[column].dropna().unique()))
    if unknown:
        raise InputError(REFERRALS, f"no referrals with {column} {unknown}; the {column} values are "
                         f"{sorted(frame[column].dropna().unique())[:20]}", column)
    return frame[column].isin(wanted)
