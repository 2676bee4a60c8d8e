"""Patient extract -> numerator/denominator tables by deprivation quintile, ethnic group, sex and age band.

Only aggregates leave this module: one row per group x sex x five-year age band x indicator. The counts are
unrounded (internal tier); disclosure control is applied at the export point (DESIGN.md "Disclosure control").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from popheal.inequalities._common import AGE_BANDS, as_list, check_counts, require_columns
from popheal.inequalities.core20 import add_deprivation
from popheal.io.bands import age_band
from popheal.io.errors import InputError

__all__ = [
    "DEPRIVATION_COLUMNS",
    "age_band_5y",
    "aggregate_extract",
    "lsoa_pcn_assignment",
    "prepare_extract",
]

#: Grouping columns derived from the patient's LSOA (need the IMD table).
DEPRIVATION_COLUMNS: tuple[str, ...] = ("imd_decile", "imd_quintile", "core20")


def age_band_5y(age: pd.Series | Sequence[float]) -> pd.Series:
    """Five-year age bands "0-4", "5-9", ..., "85-89", "90+" (ESP2013's 19 bands) as an ordered categorical.

    Ages are completed years; a missing or negative age gives a missing band.
    """
    return age_band(age if isinstance(age, pd.Series) else pd.Series(age))


def prepare_extract(
    extract: pd.DataFrame, imd: pd.DataFrame | None = None, by: Iterable[str] = ()
) -> pd.DataFrame:
    """Add the derived grouping columns a breakdown needs: ``age_band`` and, when ``by`` asks for them,
    ``imd_decile``/``imd_quintile``/``core20`` (from the patient's LSOA via :func:`add_deprivation`)."""
    by = as_list(by)
    require_columns(extract, ["age"], "patient extract")
    needs_imd = any(c in DEPRIVATION_COLUMNS for c in by)
    if needs_imd and not all(c in extract.columns for c in by if c in DEPRIVATION_COLUMNS):
        if imd is None:
            raise InputError("patient extract", f"grouping by {', '.join(by)} needs the IMD table (imd=...)")
        extract = add_deprivation(extract, imd)
    else:
        extract = extract.copy()
    extract["age_band"] = age_band_5y(extract["age"]).to_numpy()
    return extract


def _measure_values(extract: pd.DataFrame, column: str) -> pd.Series:
    """A flag (bool: 1 per patient) or an event count (int) as numbers; a missing flag counts as not done."""
    s = extract[column]
    if pd.api.types.is_bool_dtype(s.dtype) or s.dtype == object:
        return s.fillna(False).astype("bool").astype("int64")
    return check_counts(s, "patient extract", column).fillna(0)


def aggregate_extract(
    extract: pd.DataFrame,
    measures: Mapping[str, str] | Sequence[str],
    imd: pd.DataFrame | None = None,
    by: str | Iterable[str] = "imd_quintile",
    denominators: Mapping[str, str | pd.Series] | None = None,
    strata: Sequence[str] = ("sex", "age_band"),
) -> pd.DataFrame:
    """Aggregate a patient extract to a long numerator/denominator table.

    Parameters
    ----------
    extract : the patient extract (one row per patient; DESIGN.md "Data contracts").
    measures : indicator name -> column (or a list of columns, named by themselves). A bool column counts
        patients with the flag (prevalence); a count column (e.g. ``emergency_admissions``) sums events.
    imd : the normalised IoD table, needed when ``by`` includes ``imd_quintile``, ``imd_decile`` or ``core20``
        (quintile = ceil(decile / 2), from the patient's LSOA of residence).
    by : the breakdown column(s), e.g. ``"imd_quintile"`` or ``"ethnicity"``; ``()`` for everybody.
    denominators : indicator name -> bool column (or boolean Series aligned to the extract) restricting
        both numerator and denominator to the patients where it is true (e.g. hypertensives with a recorded
        systolic BP). Default: every patient in the cell.
    strata : standardisation strata added to ``by`` (``sex``, ``age_band``; ``age_band`` is derived from
        ``age``). Pass ``()`` for crude totals.

    Returns
    -------
    DataFrame ``[by...], [strata...], indicator, numerator, denominator`` with every age band present for
    every group (zero-filled), sorted. Patients whose ``by`` value is missing (e.g. an LSOA not in the IMD
    file) are left out; their number is in ``attrs["excluded_patients"]``.
    """
    by = as_list(by)
    strata = list(strata)
    if isinstance(measures, Mapping):
        measures = dict(measures)
    else:
        measures = {c: c for c in measures}
    if not measures:
        raise InputError("patient extract", "no measures to aggregate")
    denominators = dict(denominators or {})
    unknown = [k for k in denominators if k not in measures]
    if unknown:
        raise InputError("patient extract", f"denominator given for unknown indicator(s) {unknown}")
    data = prepare_extract(extract, imd, by)
    require_columns(data, [*by, *strata, *measures.values()], "patient extract")

    frame = {}
    for name, column in measures.items():
        mask = denominators.get(name)
        if mask is None:
            keep = np.ones(len(data), dtype="int64")
        else:
            m = data[mask] if isinstance(mask, str) else pd.Series(mask).set_axis(data.index)
            keep = m.fillna(False).astype("bool").to_numpy().astype("int64")
        frame[("numerator", name)] = _measure_values(data, column).to_numpy() * keep
        frame[("denominator", name)] = keep
    values = pd.DataFrame(frame, index=data.index)
    keys = by + strata
    known = data[by].notna().all(axis=1) if by else pd.Series(True, index=data.index)
    grouped_keys = data.loc[known, keys] if keys else None
    if keys:
        sums = (
            values[known.to_numpy()].groupby([grouped_keys[k] for k in keys], observed=True, sort=True).sum()
        )
        if "age_band" in strata:
            full = _complete_grid(sums.index, keys)
            sums = sums.reindex(full, fill_value=0)
    else:
        sums = values.sum().to_frame().T
    names = list(measures)
    num = sums["numerator"][names]
    den = sums["denominator"][names]
    long = pd.DataFrame(
        {
            "indicator": np.repeat(np.array(names, dtype=object), len(sums)),
            "numerator": num.to_numpy().T.ravel(),
            "denominator": den.to_numpy().T.ravel(),
        }
    )
    if keys:
        idx = sums.index.to_frame(index=False)
        long = pd.concat([pd.concat([idx] * len(names), ignore_index=True), long], axis=1)
        if "age_band" in keys:
            long["age_band"] = long["age_band"].astype(pd.CategoricalDtype(list(AGE_BANDS), ordered=True))
        long = long.sort_values([*keys, "indicator"], kind="stable", key=_sort_key).reset_index(drop=True)
        long = long[[*keys, "indicator", "numerator", "denominator"]]
    long.attrs["excluded_patients"] = int((~known).sum())
    return long


def _sort_key(s: pd.Series) -> pd.Series:
    if s.name == "indicator":
        return s
    if isinstance(s.dtype, pd.CategoricalDtype):
        return s.cat.codes
    return s


def _complete_grid(index: pd.Index, keys: list[str]) -> pd.Index:
    """Every observed combination of the non-age keys crossed with all 19 age bands."""
    frame = index.to_frame(index=False)
    other = [k for k in keys if k != "age_band"]
    bands = pd.DataFrame(
        {"age_band": pd.Categorical(list(AGE_BANDS), categories=list(AGE_BANDS), ordered=True)}
    )
    combos = frame[other].drop_duplicates() if other else pd.DataFrame(index=[0])
    grid = combos.merge(bands, how="cross")[keys]
    if len(keys) == 1:
        return pd.CategoricalIndex(grid["age_band"], name="age_band")
    return pd.MultiIndex.from_frame(grid)


def lsoa_pcn_assignment(
    extract: pd.DataFrame,
    practice_map: pd.DataFrame,
    method: str = "plurality",
    min_patients: int = 1,
) -> pd.DataFrame:
    """Which PCN's patients live in each LSOA (for PCN outlines: ``popheal.plots.maps.pcn_boundaries``).

    Parameters
    ----------
    extract : patient extract (``practice_code``, ``lsoa11``); patients without an LSOA are ignored.
    practice_map : ``practice_code, pcn_code`` (+ ``pcn_name``), e.g. :func:`popheal.io.read_practice_map`.
    method : ``"plurality"`` - one row per LSOA, the PCN with the most registered patients living there (ties
        go to the first PCN code in sort order), for ``pcn_boundaries(method="dissolve")``; ``"all"`` - every
        LSOA x PCN pair with at least ``min_patients`` patients, for ``pcn_boundaries(method="hull")``.

    Returns
    -------
    ``lsoa11, pcn_code, [pcn_name], patients, share`` (share = the PCN's patients / all registered patients
    living in the LSOA, as far as the extract covers them).
    """
    if method not in ("plurality", "all"):
        raise InputError("patient extract", 'method must be "plurality" or "all"')
    require_columns(extract, ["practice_code", "lsoa11"], "patient extract")
    require_columns(practice_map, ["practice_code", "pcn_code"], "practice map")
    extra = [c for c in ("pcn_name",) if c in practice_map.columns]
    lookup = practice_map[["practice_code", "pcn_code", *extra]].drop_duplicates("practice_code")
    lsoa = extract["lsoa11"].astype("string").str.strip()
    people = pd.DataFrame({"practice_code": extract["practice_code"].to_numpy(), "lsoa11": lsoa.to_numpy()})
    people = people[people["lsoa11"].notna() & (people["lsoa11"] != "")]
    people = people.merge(lookup, on="practice_code", how="inner")
    counts = people.groupby(["lsoa11", "pcn_code", *extra], sort=True).size().rename("patients").reset_index()
    counts["share"] = counts["patients"] / counts.groupby("lsoa11")["patients"].transform("sum")
    if method == "plurality":
        counts = counts.sort_values(
            ["lsoa11", "patients", "pcn_code"], ascending=[True, False, True], kind="stable"
        ).drop_duplicates("lsoa11")
    else:
        counts = counts[counts["patients"] >= min_patients]
    return counts.reset_index(drop=True)[["lsoa11", "pcn_code", *extra, "patients", "share"]]
