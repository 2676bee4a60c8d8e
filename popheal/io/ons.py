"""ONS population estimates and projections, life tables, and the fertility / migration assumption tables.

Every reader returns a long table. Ages are single years, 0..90 with 90 = "90 and over" for populations
(published open groups above 90 are merged into it). Error rows are 1-based data rows after the header.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from popheal.io._read import (
    GSS_CODE,
    LA_CODE_EW,
    LSOA_CODE_EW,
    PathLike,
    Table,
    column_key,
    read_many,
    read_table,
    sniff,
    source_path,
)
from popheal.io.errors import InputError

__all__ = [
    "read_fertility",
    "read_life_table",
    "read_lsoa_population",
    "read_mid_year_estimates",
    "read_migration",
    "read_snpp",
]

_TOP_AGE = 90
_SEX = {"female": "F", "females": "F", "f": "F", "male": "M", "males": "M", "m": "M", "persons": "persons",
        "person": "persons", "all": "persons", "p": "persons"}
_TOTAL = ("total_population", "All Ages", "all_ages", "Total", "All persons", "Persons")
_AGE_HEADER = re.compile(r"(?:age\s*)?(\d{1,3})(\+| and over| plus)?", re.IGNORECASE)


def _year_from(path: Path, year: int | None) -> int:
    if year is not None:
        return int(year)
    found = re.findall(r"(?<!\d)((?:19|20)\d{2})(?!\d)", path.name)
    if len(set(found)) == 1:
        return int(found[0])
    raise InputError(path, "the estimate year is not in the file: pass year=, e.g. year=2019")


def _ages(label: str) -> int | None:
    m = _AGE_HEADER.fullmatch(str(label).strip())
    return int(m.group(1)) if m else None


def _read_wide_estimates(path: PathLike, year: int | None, sex: str, code_aliases: tuple[str, ...],
                         pattern: str, what: str, example: str) -> pd.DataFrame:
    """Shared by the LSOA and LA readers: one row per area, columns total + one per single year of age."""
    t = read_table(path, {"area_code": code_aliases, "total": _TOTAL}, keep_others=True)
    yr = _year_from(t.path, year)
    sex_label = _SEX.get(str(sex).lower())
    if sex_label is None:
        raise ValueError(f"sex must be 'persons', 'F' or 'M', not {sex!r}")
    age_cols = {c: _ages(c) for c in t.data.columns if c not in ("area_code", "total")}
    age_cols = {c: a for c, a in age_cols.items() if a is not None}
    missing = [a for a in range(_TOP_AGE + 1) if a not in age_cols.values()]
    if missing:
        t.fail(f"a single-year-of-age column is missing (ages 0 ... 89, 90+ are required); columns found: "
               f"{', '.join(map(str, t.data.columns))}", str(missing[0]))
    codes = t.codes("area_code", pattern, what, example=example)
    t.unique("area_code", what, values=pd.DataFrame({"area_code": codes}))
    total = t.integers("total", what="a count of people", thousands=True)
    wide = pd.DataFrame({c: t.integers(c, what="a count of people", thousands=True) for c in age_cols})
    t.check_total("total", total, wide.sum(axis=1), "the all-ages total")
    long = wide.melt(var_name="column", value_name="population", ignore_index=False)
    out = pd.DataFrame({"area_code": codes.reindex(long.index).to_numpy(), "sex": sex_label,
                        "age": long["column"].map(age_cols).clip(upper=_TOP_AGE).to_numpy(dtype="int64"),
                        "year": yr, "population": long["population"].to_numpy()})
    out = out.groupby(["area_code", "sex", "age", "year"], as_index=False, sort=True)["population"].sum()
    out["sex"] = out["sex"].astype("str")
    return out


def read_lsoa_population(path: PathLike, year: int | None = None, sex: str = "persons") -> pd.DataFrame:
    """Read LSOA 2011 mid-year population estimates by single year of age (wide -> long).

    Accepts ONS "Lower layer Super Output Area population estimates" (SAPE), one row per LSOA:
    ``lsoa11_name, lsoa11_code, total_population, 0, 1, ..., 89, 90+`` (also ONS headers ``LSOA Code, LSOA Name,
    All Ages, 0 ... 90+``). ``year`` defaults to the one 4-digit year in the file name (e.g. ``mid2019``);
    ``sex`` labels the file's sex (persons unless a female or male table is read). Checks LSOA codes
    (``[EW]01`` + 6 digits, one row each), whole non-negative counts, and that the total equals the sum of the
    ages (the total is then dropped).

    Returns ``area_code, sex, age (0..90, 90 = 90+), year, population`` (int64).
    """
    return _read_wide_estimates(path, year, sex, ("lsoa11_code", "lsoa11cd", "LSOA Code", "lsoa_code",
                                                  "LSOA11 Code", "Area Codes", "area_code"),
                                LSOA_CODE_EW, "LSOA code", "E01010410")


def read_mid_year_estimates(path: PathLike, year: int | None = None, sex: str = "persons") -> pd.DataFrame:
    """Read local-authority mid-year population estimates by single year of age (wide -> long).

    Accepts ONS mid-year estimates (MYE2, persons / females / males) for local authorities, one row per area:
    ``ltla19_code (or lad19cd, Code, area_code), <name>, total_population (or All ages), 0 ... 89, 90+``.
    Checks area codes (LA in England ``E06-E09`` or Wales ``W06``, one row each), whole non-negative counts and the
    total against the sum of ages (then dropped). ``year`` defaults to the 4-digit year in the file name.

    Returns ``area_code, sex, age (0..90, 90 = 90+), year, population`` (int64).
    """
    aliases = ("area_code", "Code", re.compile(r"(?:ltla|lad|la|utla|ctyua)\s?\d{0,2}\s?(?:code|cd)"))
    return _read_wide_estimates(path, year, sex, aliases, LA_CODE_EW, "local authority code", "E08000031")


def _read_snpp(path: PathLike) -> pd.DataFrame:
    t = read_table(path, {"area_code": ("AREA_CODE",), "sex": ("SEX",), "age": ("AGE_GROUP",)},
                   {"component": ("COMPONENT",)}, keep_others=True)
    if t.has("component"):
        keep = t.texts("component").str.lower().eq("population").fillna(False).to_numpy(dtype=bool)
        if not keep.any():
            t.fail("no 'Population' rows: this is not a population projection file", "component")
        t = t.subset(keep)
    years = [c for c in t.data.columns if re.fullmatch(r"(19|20)\d{2}", str(c).strip())]
    if not years:
        t.fail(f"no year columns (e.g. 2018, 2019, ...); columns found: {', '.join(t.data.columns)}", "<year>")
    codes = t.codes("area_code", GSS_CODE, "ONS area code", example="E08000031")
    sex = t.choices("sex", _SEX, "sexes (female, male, persons)")
    age_text = t.texts("age", allow_na=False).str.lower()
    is_all = age_text.eq("all ages").fillna(False)
    ages = t.with_column("age", age_text.mask(is_all, "0").str.replace(r"\s*(and over|\+)$", "", regex=True))
    age = ages.integers("age", max_value=120, what="an age: 0 ... 89, '90 and over' or 'All ages'")
    key = pd.DataFrame({"area_code": codes, "sex": sex, "age": age_text})
    t.unique(["area_code", "sex", "age"], "area, sex and age", values=key)
    wide = pd.DataFrame({y: t.numbers(y, min_value=0, what="a projected population") for y in years})
    long = wide.melt(var_name="year", value_name="population", ignore_index=False)
    out = pd.DataFrame({"area_code": codes, "sex": sex, "age": age.clip(upper=_TOP_AGE), "all": is_all})
    out = out.reindex(long.index).assign(year=long["year"].astype("int64").to_numpy(),
                                         population=long["population"].to_numpy())
    parts = out[~out["all"]]
    totals = out[out["all"]]
    if not totals.empty:
        keys = ["area_code", "sex", "year"]
        sums = parts.groupby(keys)["population"].sum().rename("parts")
        expected = totals.join(sums, on=keys)["parts"].fillna(0)
        # published to 3 decimals: allow the rounding of 91 cells
        t.check_total("age", totals["population"], expected, "the 'All ages' row", tolerance=0.05)
    parts = parts.groupby(["area_code", "sex", "age", "year"], as_index=False, sort=True)["population"].sum()
    parts["sex"] = parts["sex"].astype("str")
    return parts[["area_code", "sex", "age", "year", "population"]]


def read_snpp(path: PathLike | list[PathLike]) -> pd.DataFrame:
    """Read ONS sub-national population projections (SNPP), CSV layout, wide years -> long.

    Accepts ONS "Subnational population projections for England", e.g. ``2018 SNPP Population females.csv`` or
    ``2022 SNPP Population persons.csv`` (pass one path or several): ``AREA_CODE, AREA_NAME, COMPONENT
    (Population), SEX (female/male/persons), AGE_GROUP (0 ... 89, "90 and over", "All ages"), 2018, 2019, ...``.
    Checks GSS area codes, sexes, ages, one row per area/sex/age, non-negative numbers, and each "All ages" row
    against the sum of ages (within 0.05: cells are published to 3 decimals); "All ages" rows are then dropped.

    Returns ``area_code, sex ("F"/"M"/"persons"), age (0..90, 90 = 90+), year, population`` (float64).
    """
    out = read_many(path, _read_snpp)
    return out.sort_values(["area_code", "sex", "year", "age"], ignore_index=True)


# -- life tables --------------------------------------------------------------------------------------------
_LT_COLUMNS = ("mx", "qx", "lx", "ex")


def _validate_life_table(t: Table) -> pd.DataFrame:
    out = pd.DataFrame({
        "sex": t.choices("sex", _SEX, "sexes (male, female, persons)"),
        "age": t.integers("age", max_value=120, what="an age in years"),
        "mx": t.numbers("mx", min_value=0, what="a central death rate"),
        "qx": t.numbers("qx", min_value=0, max_value=1, what="a probability of death"),
        "lx": t.numbers("lx", min_value=0, what="a number of survivors"),
        "ex": t.numbers("ex", min_value=0, what="a life expectancy in years"),
    })
    t.unique(["sex", "age"], "sex and age", values=out)
    start = out.groupby("sex")["age"].transform("min")
    if (start != 0).any():
        t.fail("each sex's table must start at age 0", "age", mask=(start != 0) & (out["age"] == start))
    order = np.lexsort((out["age"].to_numpy(), out["sex"].to_numpy()))
    steps = out.iloc[order].groupby("sex")["age"].diff().fillna(1).to_numpy()
    gap = np.zeros(len(out), dtype=bool)
    gap[order] = steps != 1
    if gap.any():
        t.fail("ages must run in single years without gaps", "age", mask=gap)
    out["sex"] = out["sex"].astype("str")
    return out.sort_values(["sex", "age"], ignore_index=True)


def _xlsx_life_table(path: Path, sheet: str | None) -> Table:
    """The ONS national life tables workbook: one sheet per period, males then females side by side."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - a damaged workbook is bad input
        raise InputError(path, f"could not be opened as an Excel workbook ({exc})") from None
    try:
        periods = [n for n in wb.sheetnames if re.fullmatch(r"\d{4}\s*-\s*\d{4}", n.strip())]
        if sheet is None:
            if not periods:
                raise InputError(path, f"no period sheet such as '2017-2019'; sheets: {', '.join(wb.sheetnames)}")
            sheet = max(periods, key=lambda n: int(n.strip()[-4:]))
        if sheet not in wb.sheetnames:
            raise InputError(path, f"there is no sheet '{sheet}'; period sheets: {', '.join(periods)}")
        rows = [tuple(r) for r in wb[sheet].iter_rows(values_only=True)]
    finally:
        wb.close()
    header_at = next((i for i, r in enumerate(rows[:40])
                      if {"mx", "qx"} <= {column_key(v) for v in r if v is not None}), None)
    if header_at is None:
        raise InputError(path, f"sheet '{sheet}' has no header row with mx and qx columns", column="mx")
    header = [column_key(v) if v is not None else "" for v in rows[header_at]]
    above = [column_key(v) if v is not None else "" for v in rows[header_at - 1]] if header_at else [""] * len(header)
    starts = [i for i, h in enumerate(header) if h == "mx"]
    age_col = next((i for i, h in enumerate(header) if h in ("x", "age")), 0)
    body = rows[header_at + 1:]
    end = next((i for i, r in enumerate(body) if age_col >= len(r) or r[age_col] in (None, "")), len(body))
    body = body[:end]
    frames = []
    for n, s in enumerate(starts):
        label = next((above[j] for j in range(s, max(s - 2, -1), -1) if j < len(above) and above[j]), "")
        sex = "male" if label.startswith("male") else "female" if label.startswith("female") else \
            ("male", "female")[n] if n < 2 else label
        cols = {header[j]: j for j in range(s, min(s + 6, len(header)))}
        missing = [c for c in _LT_COLUMNS if c not in cols]
        if missing:
            raise InputError(path, f"sheet '{sheet}': the {sex} block has no '{missing[0]}' column",
                             column=missing[0])
        frame = pd.DataFrame({"sex": sex, "age": [r[age_col] for r in body],
                              **{c: [r[cols[c]] for r in body] for c in _LT_COLUMNS}})
        frames.append(frame)
    data = pd.concat(frames).astype("str")
    return Table(path, data, {"sex": f"{sheet} sex block", "age": f"{sheet}!{header[age_col] or 'age'}",
                              **{c: f"{sheet}!{c}" for c in _LT_COLUMNS}})


def read_life_table(path: PathLike, sheet: str | None = None) -> pd.DataFrame:
    """Read a national life table by single year of age.

    Accepts ONS "National life tables" (UK or England): the published workbook
    ``nationallifetables3yearuk.xlsx`` (one sheet per 3-year period, e.g. ``sheet="2017-2019"``; default the
    latest; males and females side by side under an ``x, mx, qx, lx, dx, ex`` header), or that sheet reshaped
    to a long CSV ``age, sex (male/female), mx, qx, lx, dx, ex``. Checks sexes, whole ages from 0 without gaps,
    one row per sex and age, rates and probabilities (0 <= qx <= 1) and non-negative lx and ex.

    Returns ``sex ("F"/"M", or "persons"), age (0..100), mx, qx, lx, ex``.
    """
    p = source_path(path)
    kind = sniff(p)
    if kind == "xlsx":
        t = _xlsx_life_table(p, sheet)
    else:
        t = read_table(p, {"age": ("x",), "sex": (), **{c: () for c in _LT_COLUMNS}})
    return _validate_life_table(t)


# -- fertility and migration assumptions ------------------------------------------------------------------
def read_fertility(path: PathLike) -> pd.DataFrame:
    """Read age-specific fertility rates (live births per woman per year).

    Accepts popheal's fertility layout (derived from ONS "Births by age of mother" or local assumptions):
    ``area_code, age (e.g. 15-46), rate``. Checks GSS area codes, whole ages 0-120, one row per area and age,
    and rates between 0 and 1 (a rate per 1,000 women is an error).

    Returns ``area_code, age, rate``.
    """
    t = read_table(path, {"area_code": ("AREA_CODE",), "age": (), "rate": ("asfr", "fertility_rate")})
    out = pd.DataFrame({
        "area_code": t.codes("area_code", GSS_CODE, "ONS area code", example="E08000031"),
        "age": t.integers("age", max_value=120, what="an age in years"),
        "rate": t.numbers("rate", min_value=0, max_value=1, what="births per woman per year"),
    })
    t.unique(["area_code", "age"], "area and age", values=out)
    return out.sort_values(["area_code", "age"], ignore_index=True)


def read_migration(path: PathLike) -> pd.DataFrame:
    """Read net migration by sex and single year of age (people per year; negative = net outflow).

    Accepts popheal's migration layout (derived from ONS SNPP components of change or local assumptions):
    ``area_code, sex (F/M or female/male), age (0-90, 90 = 90+), net_migration``. Checks GSS area codes, sexes,
    whole ages 0-120 (ages over 90 are merged into 90), one row per area, sex and age, and numeric values.

    Returns ``area_code, sex, age, net_migration`` (float64).
    """
    t = read_table(path, {"area_code": ("AREA_CODE",), "sex": (), "age": (),
                          "net_migration": ("net", "net_migrants")})
    out = pd.DataFrame({
        "area_code": t.codes("area_code", GSS_CODE, "ONS area code", example="E08000031"),
        "sex": t.choices("sex", _SEX, "sexes (F, M, persons)"),
        "age": t.integers("age", max_value=120, what="an age in years"),
        "net_migration": t.numbers("net_migration", what="a number of people"),
    })
    t.unique(["area_code", "sex", "age"], "area, sex and age", values=out)
    out["age"] = out["age"].clip(upper=_TOP_AGE)
    out = out.groupby(["area_code", "sex", "age"], as_index=False, sort=True)["net_migration"].sum()
    out["sex"] = out["sex"].astype("str")
    return out
