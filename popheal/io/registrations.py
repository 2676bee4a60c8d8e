"""NHS Digital "Patients Registered at a GP Practice": list sizes by age and sex, and the practice -> PCN map.

Publisher: NHS Digital (now NHS England), monthly publication "Patients Registered at a GP Practice". Files:
``gp-reg-pat-prac-quin-age.csv`` (5-year bands), ``gp-reg-pat-prac-sing-age-{female,male}.csv`` (single year),
``gp-reg-pat-prac-all.csv`` (totals) and ``gp-reg-pat-prac-map.csv`` (practice -> PCN -> CCG/sub-ICB map).
Older files have ``CCG_CODE``/``TYPE``, newer ``SUB_ICB_LOCATION_CODE``/``ORG_TYPE``: both are accepted. Where a
type column is present only ``GP`` rows are kept. Error rows are 1-based data rows after the header.
"""

from __future__ import annotations

import pandas as pd

from popheal.io._read import PCN_CODE, PRACTICE_CODE, PathLike, Table, read_many, read_table
from popheal.io.bands import AGE_BANDS

__all__ = [
    "AGE_BANDS",
    "read_practice_map",
    "read_registrations_1y",
    "read_registrations_5y",
    "read_registrations_total",
]

#: The 19 five-year bands of the normalised table (NHS Digital's 90_94 and 95+ merged into "90+").

_PUBLISHED_BANDS = {f"{a}_{a + 4}": f"{a}-{a + 4}" for a in range(0, 90, 5)} | {"90_94": "90+", "95+": "90+"}
_TOP_AGE = 90
_SEX = {"FEMALE": "F", "MALE": "M", "F": "F", "M": "M", "ALL": "ALL", "PERSONS": "ALL"}

_ORG = ("ORG_CODE", "CODE", "PRACTICE_CODE")
_CCG = ("CCG_CODE", "SUB_ICB_LOCATION_CODE", "SUB_ICB_LOC_CODE")
_TYPE = ("TYPE", "ORG_TYPE")


def _gp_rows(t: Table) -> Table:
    """Keep GP practice rows when the file has a TYPE / ORG_TYPE column (regional files mix in CCG rows)."""
    if not t.has("type"):
        return t
    gp = t.texts("type").str.upper().eq("GP").fillna(False).to_numpy(dtype=bool)
    if not gp.any():
        t.fail("no GP practice rows (TYPE 'GP') in the file", "type")
    return t.subset(gp)


def _check_all_rows(t: Table, df: pd.DataFrame, key: str) -> pd.DataFrame:
    """Check NHS Digital's ALL rows against the sum of their parts and return the rows without them.

    ``df`` has ``practice_code, sex, <key>, population`` indexed by data row, with ``ALL`` in sex and <key>.
    """
    is_all_sex, is_all_age = df["sex"].eq("ALL"), df[key].eq("ALL")
    parts = df[~is_all_sex & ~is_all_age]
    for total_rows, group, desc in (
        (df[is_all_age & ~is_all_sex], ["practice_code", "sex"], f"all-ages ({t.label('age')} = ALL)"),
        (df[is_all_sex & ~is_all_age], ["practice_code", key], "both-sexes (SEX = ALL)"),
        (df[is_all_sex & is_all_age], ["practice_code"], "all-ages, both-sexes"),
    ):
        if total_rows.empty:
            continue
        sums = parts.groupby(group, sort=False)["population"].sum().rename("parts")
        expected = total_rows.join(sums, on=group)["parts"].fillna(0)
        t.check_total("population", total_rows["population"], expected, f"the {desc} row", tolerance=0)
    return parts


def _read_banded(path: PathLike, age_column: tuple[str, ...]) -> tuple[Table, pd.DataFrame]:
    t = read_table(path, {"practice_code": _ORG, "sex": ("SEX",), "age": age_column,
                          "population": ("NUMBER_OF_PATIENTS",)}, {"type": _TYPE})
    t = _gp_rows(t)
    df = pd.DataFrame({
        "practice_code": t.codes("practice_code", PRACTICE_CODE, "practice code", example="M92001"),
        "sex": t.choices("sex", _SEX, "sexes (FEMALE, MALE, ALL)"),
        "population": t.integers("population", what="a count of patients"),
    })
    return t, df


def read_registrations_5y(path: PathLike) -> pd.DataFrame:
    """Read the registered list by practice, sex and 5-year age band.

    Accepts NHS Digital "Patients Registered at a GP Practice", ``gp-reg-pat-prac-quin-age.csv``
    (``ORG_CODE, SEX (FEMALE/MALE/ALL), AGE_GROUP_5 (0_4 ... 90_94, 95+, ALL), NUMBER_OF_PATIENTS``).
    Checks codes, sexes, bands, whole non-negative counts, one row per practice/sex/band, and that every
    ``ALL`` row equals the sum of its parts; then drops the ``ALL`` rows and merges 90_94 and 95+.

    Returns ``practice_code, sex ("F"/"M"), age_band ("0-4" ... "85-89", "90+"), population`` (int64), sorted by
    practice, sex and band.
    """
    t, df = _read_banded(path, ("AGE_GROUP_5", "AGE_GROUP"))
    published = {b: b for b in (*_PUBLISHED_BANDS, "ALL")} | {b.replace("_", "-"): b for b in _PUBLISHED_BANDS}
    df["age"] = t.choices("age", published, "5-year age bands (0_4 ... 90_94, 95+, ALL)")
    t.unique(["practice_code", "sex", "age"], "practice, sex and age band", values=df)
    parts = _check_all_rows(t, df, "age")
    parts = parts.assign(age_band=parts["age"].map(_PUBLISHED_BANDS))
    out = parts.groupby(["practice_code", "sex", "age_band"], as_index=False, sort=False)["population"].sum()
    out["age_band"] = pd.Categorical(out["age_band"], categories=AGE_BANDS, ordered=True)
    out = out.sort_values(["practice_code", "sex", "age_band"], ignore_index=True)
    out["age_band"] = out["age_band"].astype("str")
    return out[["practice_code", "sex", "age_band", "population"]]


def _read_1y(path: PathLike) -> pd.DataFrame:
    t, df = _read_banded(path, ("AGE",))
    age = t.texts("age").str.upper()
    is_all = age.eq("ALL").fillna(False)
    years = t.with_column("age", age.mask(is_all, "0").str.removesuffix("+"))
    df["age"] = years.integers("age", max_value=120, what="an age in years: 0-94, 95+ or ALL")
    df["age"] = df["age"].astype("str").mask(is_all, "ALL")
    t.unique(["practice_code", "sex", "age"], "practice, sex and age", values=df)
    parts = _check_all_rows(t, df, "age")
    parts = parts.assign(age=parts["age"].astype("int64").clip(upper=_TOP_AGE))
    return parts.groupby(["practice_code", "sex", "age"], as_index=False, sort=False)["population"].sum()


def read_registrations_1y(path: PathLike | list[PathLike]) -> pd.DataFrame:
    """Read the registered list by practice, sex and single year of age.

    Accepts NHS Digital "Patients Registered at a GP Practice", ``gp-reg-pat-prac-sing-age-female.csv`` and
    ``-male.csv`` (pass one path or both): ``ORG_CODE, SEX, AGE (0 ... 94, 95+, ALL), NUMBER_OF_PATIENTS``.
    Same checks as :func:`read_registrations_5y`; ages 90 and over are merged into 90.

    Returns ``practice_code, sex ("F"/"M"), age (0..90, 90 = 90+), population`` (int64).
    """
    out = read_many(path, _read_1y)
    return out.sort_values(["practice_code", "sex", "age"], ignore_index=True)


def read_registrations_total(path: PathLike) -> pd.DataFrame:
    """Read total list sizes per practice.

    Accepts NHS Digital "Patients Registered at a GP Practice", ``gp-reg-pat-prac-all.csv``
    (``PUBLICATION, EXTRACT_DATE, TYPE, CCG_CODE, ONS_CCG_CODE, CODE, POSTCODE, SEX (ALL), AGE (ALL),
    NUMBER_OF_PATIENTS``). Checks practice codes (one row each) and whole non-negative counts.

    Returns ``practice_code, population`` (int64) (+ ``ccg_code`` when the file has a CCG / sub-ICB column).
    """
    t = read_table(path, {"practice_code": _ORG, "population": ("NUMBER_OF_PATIENTS",)},
                   {"ccg_code": _CCG, "type": _TYPE, "sex": ("SEX",), "age": ("AGE",)})
    t = _gp_rows(t)
    for col in ("sex", "age"):
        if t.has(col):
            t = t.subset(t.texts(col).str.upper().eq("ALL").fillna(False).to_numpy(dtype=bool))
    out = pd.DataFrame({
        "practice_code": t.codes("practice_code", PRACTICE_CODE, "practice code", example="M92001"),
        "population": t.integers("population", what="a count of patients"),
    })
    t.unique("practice_code", "practice", values=out)
    if t.has("ccg_code"):
        out["ccg_code"] = t.codes("ccg_code", PRACTICE_CODE, "CCG / sub-ICB code", example="06A")
    return out.reset_index(drop=True)


def read_practice_map(path: PathLike) -> pd.DataFrame:
    """Read the practice -> PCN map.

    Accepts NHS Digital "Patients Registered at a GP Practice", ``gp-reg-pat-prac-map.csv`` (``PRACTICE_CODE,
    PRACTICE_NAME, PRACTICE_POSTCODE, PCN_CODE, PCN_NAME, ... CCG_CODE`` or ``SUB_ICB_LOCATION_CODE``).
    Checks practice codes (well formed, one row each), PCN codes (well formed; NHS Digital's ``U`` =
    "Unallocated" is kept as published) and that names are present.

    Returns ``practice_code, practice_name, pcn_code, pcn_name`` (+ ``ccg_code``, ``postcode`` when present).
    """
    t = read_table(path, {"practice_code": ("PRACTICE_CODE",), "practice_name": ("PRACTICE_NAME",),
                          "pcn_code": ("PCN_CODE",), "pcn_name": ("PCN_NAME",)},
                   {"ccg_code": _CCG, "postcode": ("PRACTICE_POSTCODE", "POSTCODE")})
    out = pd.DataFrame({
        "practice_code": t.codes("practice_code", PRACTICE_CODE, "practice code", example="M92001"),
        "practice_name": t.texts("practice_name", allow_na=False),
        "pcn_code": t.codes("pcn_code", PCN_CODE, "PCN code", example="U19348"),
        "pcn_name": t.texts("pcn_name", allow_na=False),
    })
    t.unique("practice_code", "practice", values=out)
    if t.has("ccg_code"):
        out["ccg_code"] = t.codes("ccg_code", PRACTICE_CODE, "CCG / sub-ICB code", example="06A")
    if t.has("postcode"):
        out["postcode"] = t.texts("postcode")
    return out.reset_index(drop=True)
