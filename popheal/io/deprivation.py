"""English Indices of Deprivation 2019 (LSOA files) and practice-level IMD scores.

Error rows are 1-based data rows after the header.
"""

from __future__ import annotations

import re

import pandas as pd

from popheal.io._read import LA_CODE, LSOA_CODE, PRACTICE_CODE, PathLike, Table, column_key, read_table
from popheal.io.errors import InputError

__all__ = ["read_imd", "read_practice_imd"]

_KEYS = {
    "lsoa11": ("LSOA code (2011)", "lsoa11cd", "lsoa11_code", "LSOA code"),
    "lsoa_name": ("LSOA name (2011)", "lsoa11nm", "LSOA name"),
    "lad_code": ("Local Authority District code (2019)", "lad19cd", "Local Authority District code"),
    "lad_name": ("Local Authority District name (2019)", "lad19nm", "Local Authority District name"),
}
_REQUIRED = ("lsoa11", "lsoa_name", "lad_code", "imd_rank", "imd_decile")

#: Short names of the IoD2019 indices, domains and sub-domains (MHCLG technical report, table 2.1).
_DOMAINS = {
    "index of multiple deprivation": "imd",
    "income": "income",
    "employment": "employment",
    "education, skills and training": "education",
    "health deprivation and disability": "health",
    "crime": "crime",
    "barriers to housing and services": "barriers",
    "living environment": "living_environment",
    "income deprivation affecting children index": "idaci",
    "income deprivation affecting older people": "idaopi",
    "children and young people sub-domain": "children_young_people",
    "adult skills sub-domain": "adult_skills",
    "geographical barriers sub-domain": "geographical_barriers",
    "wider barriers sub-domain": "wider_barriers",
    "indoors sub-domain": "indoors",
    "outdoors sub-domain": "outdoors",
}
_POPULATION = {
    "total population": "population_total",
    "dependent children aged 0-15": "population_0_15",
    "population aged 16-59": "population_16_59",
    "older population aged 60 and over": "population_60_plus",
    "working age population 18-59/64": "population_working_age",
}


def _snake(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _imd_name(header: str) -> str:
    """popheal's name for an IoD2019 header, e.g. 'Income Score (rate)' -> income_score."""
    key = column_key(header)
    for name, aliases in _KEYS.items():
        if key in {column_key(a) for a in aliases}:
            return name
    plain = re.sub(r"\s*\([^)]*\)", "", key).strip()
    m = re.fullmatch(r"(.*?)\s+(score|rank|decile)", plain)
    if m:
        return f"{_DOMAINS.get(m.group(1), _snake(m.group(1)))}_{m.group(2)}"
    base = plain.split(":")[0].strip()
    return _POPULATION.get(base, _snake(plain))


def _read_iod_file(path: PathLike) -> tuple[Table, pd.DataFrame]:
    t = read_table(path, keep_others=True)
    rename = {c: _imd_name(c) for c in t.data.columns}
    clash = pd.Series(list(rename.values())).duplicated()
    if clash.any():
        name = list(rename.values())[int(clash.idxmax())]
        t.fail(f"two columns are both read as '{name}': remove one", [k for k, v in rename.items() if v == name][1])
    t.names = {new: old for old, new in rename.items()}
    t.data = t.data.rename(columns=rename)
    if not t.has("lsoa11"):
        t.fail(f"a required column is missing; columns found: {', '.join(rename)}", "LSOA code (2011)")
    out = pd.DataFrame({"lsoa11": t.codes("lsoa11", LSOA_CODE, "LSOA code", example="E01010410")})
    t.unique("lsoa11", "LSOA", values=out)
    for col in t.data.columns:
        if col == "lsoa11":
            continue
        if col == "lad_code":
            out[col] = t.codes(col, LA_CODE, "local authority code", example="E08000031")
        elif col.endswith("_rank"):
            out[col] = t.integers(col, min_value=1, thousands=True, what="a rank, 1 = most deprived")
        elif col.endswith("_decile"):
            out[col] = t.integers(col, min_value=1, max_value=10, thousands=True, what="a decile")
        elif col.endswith("_score"):
            out[col] = t.numbers(col, thousands=True, what="a score")
        elif col.startswith("population_"):
            out[col] = t.integers(col, thousands=True, what="a count of people")
        else:
            out[col] = t.texts(col, allow_na=col not in ("lsoa_name", "lad_name"))
    return t, out


def read_imd(path: PathLike, *more: PathLike) -> pd.DataFrame:
    """Read the English Indices of Deprivation 2019 for LSOAs (one file, or File 1 with Files 2, 5, 6, 7).

    Accepts MHCLG "English indices of deprivation 2019" CSVs: File 1 (``LSOA code (2011), LSOA name (2011), Local
    Authority District code (2019), ..., Index of Multiple Deprivation (IMD) Rank, ... Decile``), File 2 (domain
    ranks and deciles), File 5 (scores), File 6 (population denominators), File 7 (all of them). Ranks and counts
    published with thousands separators ("29,199") are parsed. Checks LSOA codes (``E01`` + 6 digits, one row
    each), LA codes, whole ranks >= 1, deciles 1-10, numeric scores, and that several files agree on the LSOAs
    and on the columns they share.

    Returns ``lsoa11, lsoa_name, lad_code, imd_rank, imd_decile`` (+ ``lad_name``, ``imd_score``, domain columns
    ``<domain>_score|_rank|_decile`` such as ``income_score``, and ``population_*`` when present).
    """
    tables = [_read_iod_file(p) for p in (path, *more)]
    first_t, out = tables[0]
    for t, df in tables[1:]:
        lonely = pd.concat([out.loc[~out["lsoa11"].isin(df["lsoa11"]), "lsoa11"],
                            df.loc[~df["lsoa11"].isin(out["lsoa11"]), "lsoa11"]])
        if not lonely.empty:
            raise InputError(t.path, f"covers different LSOAs from {first_t.path.name} (e.g. "
                                     f"{', '.join(lonely.head(3))}): pass files of the same release and area",
                             column=t.label("lsoa11"))
        shared = [c for c in df.columns if c in out.columns and c != "lsoa11"]
        mine = df.set_index("lsoa11").loc[out["lsoa11"]].reset_index()
        for c in shared:
            differ = (out[c].to_numpy() != mine[c].to_numpy()) & out[c].notna().to_numpy()
            if differ.any():
                rows = df.index[df["lsoa11"].isin(out.loc[differ, "lsoa11"])]
                t.fail(f"disagrees with {first_t.path.name} on this column (e.g. LSOA "
                       f"{out.loc[differ, 'lsoa11'].iloc[0]})", c, rows=[int(r) + 1 for r in rows[:5]])
        out = out.join(mine.drop(columns=shared).set_index("lsoa11"), on="lsoa11")
    missing = [c for c in _REQUIRED if c not in out.columns]
    if missing:
        raise InputError(first_t.path, "a required IoD2019 column is missing (File 1, 2 or 7 gives the IMD rank "
                                       f"and decile); columns found: {', '.join(out.columns)}",
                         column=missing[0])
    lead = [*_REQUIRED, *(c for c in ("lad_name", "imd_score") if c in out.columns)]
    return out[lead + [c for c in out.columns if c not in lead]].reset_index(drop=True)


def read_practice_imd(path: PathLike, period: str | None = None) -> pd.DataFrame:
    """Read the IMD 2019 score attributed to each GP practice.

    Accepts OHID Fingertips indicator downloads (indicator 93553 "Deprivation score (IMD 2019)", CSV layout
    ``Indicator ID, Indicator Name, Parent Code, ..., Area Code, Area Name, Area Type, ..., Time period, Value,
    ...``). Keeps the practice rows (``Area Type`` GP/GPs); ``period`` picks a ``Time period`` (default: the
    latest). Checks one indicator, practice codes (one row each) and non-negative numeric scores (an empty
    Value is kept as NA).

    Returns ``practice_code, imd_score``.
    """
    t = read_table(path, {"practice_code": ("Area Code",), "area_type": ("Area Type",), "imd_score": ("Value",)},
                   {"indicator": ("Indicator ID",), "period": ("Time period",),
                    "period_order": ("Time period Sortable",)})
    gp = t.texts("area_type").str.lower().isin(["gp", "gps"]).to_numpy(dtype=bool)
    if not gp.any():
        t.fail("no GP practice rows (Area Type 'GP'): download the indicator for GP practices", "area_type")
    t = t.subset(gp)
    if t.has("indicator") and t.texts("indicator").nunique() > 1:
        t.fail("holds several indicators: download indicator 93553 (IMD 2019 score) alone", "indicator")
    if t.has("period"):
        periods = t.texts("period")
        if period is None:
            if t.has("period_order"):
                period = periods.loc[pd.to_numeric(t.texts("period_order"), errors="coerce").idxmax()]
            else:
                period = max(periods.dropna())
        keep = periods.eq(str(period)).fillna(False).to_numpy(dtype=bool)
        if not keep.any():
            t.fail(f"no rows for period '{period}'; periods: {', '.join(periods.unique())}", "period")
        t = t.subset(keep)
    out = pd.DataFrame({
        "practice_code": t.codes("practice_code", PRACTICE_CODE, "practice code", example="M92001"),
        "imd_score": t.numbers("imd_score", min_value=0, allow_na=True, what="an IMD score"),
    })
    t.unique("practice_code", "practice", values=out)
    return out.reset_index(drop=True)
