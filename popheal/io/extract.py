"""The patient extract and the referral extract: popheal's own input contract (no public source has them).

The columns, their kinds and the allowed values are in :mod:`popheal.io.extract_schema` (one list shared with
the synthetic generator and the analyses). Both readers accept CSV (UTF-8, UTF-8 with BOM or Windows-1252, as
exported by GP clinical systems and data warehouses) or parquet, recognised by content, not by file name.
Every contract column must be present (matched ignoring case); extra columns are kept as read.

Kinds and rules (errors name the file, the column, the first offending 1-based data rows after the header,
and the rule):

========== ======================================================= ================================
kind       rule                                                    returned dtype
========== ======================================================= ================================
id         present and unique                                      str
code       ODS code, ``^[A-Z0-9]{3,12}$``                          str
sex        F / M / U (also female / male / unknown)                str
age        whole number 0-120                                      int32
lsoa       ``E01`` + 6 digits, or empty (-> NA)                    str
ethnicity  Asian, Black, Mixed, White, Other, Not stated           str
bool       True/False, 1/0, Y/N, yes/no (any case); not empty       bool
count      whole number >= 0                                       int32
float      number, empty allowed (``sbp``: NA = not recorded)      float64
date       ISO 8601 (2019-04-01) or day-first (01/04/2019)         datetime64
text       not empty                                               str
priority   routine / urgent / two-week-wait (2WW)                  str
route      referral / advice-and-guidance (A&G)                    str
========== ======================================================= ================================
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from popheal.io._read import LSOA_CODE, PRACTICE_CODE, PathLike, Table, read_table
from popheal.io.extract_schema import (
    ETHNIC_GROUPS,
    PATIENT_COLUMNS,
    PRIORITIES,
    REFERRAL_COLUMNS,
    ROUTES,
)

__all__ = ["read_patient_extract", "read_referral_extract"]

_SEX = {"F": "F", "M": "M", "U": "U", "female": "F", "male": "M", "unknown": "U", "indeterminate": "U"}
_ETHNICITY = {g: g for g in ETHNIC_GROUPS}
_PRIORITY = {p: p for p in PRIORITIES} | {"2ww": "two-week-wait", "two week wait": "two-week-wait"}
_ROUTE = {r: r for r in ROUTES} | {"a&g": "advice-and-guidance", "advice and guidance": "advice-and-guidance"}


def _convert(t: Table, column: str, kind: str) -> pd.Series:
    """One contract column, validated and typed by its kind (see the module docstring)."""
    if kind == "id":
        return t.texts(column, allow_na=False)
    if kind == "code":
        return t.codes(column, PRACTICE_CODE, "ODS code", example="M92001")
    if kind == "sex":
        return t.choices(column, _SEX, "sexes")
    if kind == "age":
        return t.integers(column, min_value=0, max_value=120, dtype="int32", what="an age in years")
    if kind == "lsoa":
        return t.codes(column, LSOA_CODE, "LSOA code", allow_na=True, example="E01010410")
    if kind == "ethnicity":
        return t.choices(column, _ETHNICITY, "ethnic groups")
    if kind == "bool":
        return t.flags(column)
    if kind == "count":
        return t.integers(column, min_value=0, dtype="int32", what="a count")
    if kind == "float":
        return t.numbers(column, allow_na=True)
    if kind == "date":
        return t.dates(column)
    if kind == "text":
        return t.texts(column, allow_na=False)
    if kind == "priority":
        return t.choices(column, _PRIORITY, "priorities")
    if kind == "route":
        return t.choices(column, _ROUTE, "routes")
    raise ValueError(f"unknown column kind {kind!r} for {column}")  # pragma: no cover - schema bug


def _read_extract(path: PathLike, contract: Mapping[str, str], what: str) -> pd.DataFrame:
    t = read_table(path, {c: () for c in contract}, keep_others=True, expect=f"{what} (CSV or parquet)",
                   allow=("csv", "parquet"))
    out = {}
    for column, kind in contract.items():
        out[column] = _convert(t, column, kind)
        if kind == "id":
            t.unique(column, "id", values=pd.DataFrame({column: out[column]}))
        del t.data[column]  # free the text as we go (1M-row extracts)
    df = pd.DataFrame(out)
    for extra in t.data.columns:
        df[extra] = t.data[extra]
    return df.reset_index(drop=True)


def read_patient_extract(path: PathLike) -> pd.DataFrame:
    """Read the patient-level extract (one row per registered patient, pseudonymised).

    Accepts popheal's patient extract contract (README, :data:`popheal.io.extract_schema.PATIENT_COLUMNS`), CSV
    or parquet. Validates every column by its kind (module docstring): unique ``patient_id``, practice codes,
    ``sex`` F/M/U, ``age`` 0-120, ``lsoa11`` ``E01`` + 6 digits or empty, the six ethnic groups, booleans, counts
    >= 0, numeric ``sbp``.

    Returns the contract columns in contract order (bools as ``bool``, ages and counts ``int32``, ``sbp``
    ``float64``, ``lsoa11`` NA when empty), then any extra columns as read.
    """
    return _read_extract(path, PATIENT_COLUMNS, "patient extract")


def read_referral_extract(path: PathLike) -> pd.DataFrame:
    """Read the referral extract (one row per referral, at least 24 months).

    Accepts popheal's referral extract contract (:data:`popheal.io.extract_schema.REFERRAL_COLUMNS`), CSV or
    parquet: ``referral_id, practice_code, patient_age, patient_sex, referral_date, specialty, priority, route,
    provider_code, out_of_area``. Validates a unique ``referral_id``, ODS codes, age 0-120, sex F/M/U, a
    parseable date, priority (routine / urgent / two-week-wait), route (referral / advice-and-guidance) and the
    ``out_of_area`` boolean.

    Returns the contract columns in contract order (``referral_date`` datetime64, ``out_of_area`` bool), then any
    extra columns as read.
    """
    return _read_extract(path, REFERRAL_COLUMNS, "referral extract")
