"""Shared validation, labels and the adapters to :mod:`popheal.stats` used by the inequalities modules."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from popheal.io.bands import AGE_BANDS
from popheal.io.errors import InputError, first_rows, require_columns

__all__ = [
    "AGE_BANDS",
    "BREAKDOWN_LABELS",
    "DECILE_LABELS",
    "QUINTILE_LABELS",
    "as_list",
    "check_counts",
    "clean_lsoa",
    "quintile_label",
    "require_columns",
]

#: The 19 five-year bands of the 2013 European Standard Population (DESIGN.md "dsr"), youngest first.

#: Labels for national IMD 2019 quintiles in tables and charts (quintile = ceil(decile / 2); 1 = most
#: deprived).
QUINTILE_LABELS: dict[int, str] = {
    1: "Q1 most deprived",
    2: "Q2",
    3: "Q3",
    4: "Q4",
    5: "Q5 least deprived",
}

#: Labels for national IMD 2019 deciles (1 = most deprived 10% of LSOAs in England).
DECILE_LABELS: dict[int, str] = {
    d: f"D{d} most deprived" if d == 1 else (f"D{d} least deprived" if d == 10 else f"D{d}")
    for d in range(1, 11)
}

#: The ``breakdown`` text of the indicator shape for each grouping column.
BREAKDOWN_LABELS: dict[str, str] = {
    "imd_quintile": "IMD 2019 national quintile",
    "imd_decile": "IMD 2019 national decile",
    "core20": "Core20 (IMD 2019 national deciles 1-2)",
    "ethnicity": "Ethnic group",
    "sex": "Sex",
    "age_band": "Age band",
    "all": "All",
}


def as_list(by: str | Iterable[str] | None) -> list[str]:
    """``None`` -> [], a column name -> [name], any other iterable -> list."""
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    return list(by)


def check_counts(values: pd.Series, what: str, column: str, integer: bool = False) -> pd.Series:
    """Return ``values`` as numbers, raising when any is missing, negative (or non-integer when asked)."""
    num = pd.to_numeric(values, errors="coerce")
    bad = num.isna() | (num < 0)
    if integer:
        bad |= num.notna() & (num != np.round(num))
    if bad.any():
        rule = "must be a non-negative " + ("whole number" if integer else "number") + " (no blanks)"
        raise InputError(
            what, rule, column=column, rows=first_rows(pd.Series(bad.to_numpy(), index=values.index))
        )
    return num


def clean_lsoa(values: pd.Series) -> pd.Series:
    """LSOA codes as strings with surrounding blanks removed; empty strings become missing."""
    codes = values.astype("string").str.strip()
    return codes.mask(codes == "")


def quintile_label(quintile: pd.Series) -> pd.Series:
    """Integer quintiles 1-5 -> the :data:`QUINTILE_LABELS` text."""
    return pd.Series(quintile, copy=False).map(QUINTILE_LABELS)


def indicator_frame(
    values: pd.DataFrame,
    *,
    indicator: str | pd.Series,
    breakdown: str | pd.Series,
    group: pd.Series | str,
    area: Mapping[str, object] | None = None,
) -> pd.DataFrame:
    """Arrange a statistics table into DESIGN.md's indicator shape (one confidence level or two)."""
    area = dict(area or {})
    n = len(values)
    out = pd.DataFrame(
        {
            "indicator": indicator,
            "area_type": area.get("area_type", "area"),
            "area_code": area.get("area_code"),
            "area_name": area.get("area_name"),
            "period": area.get("period"),
            "breakdown": breakdown,
            "group": group,
        },
        index=values.index,
    )
    if n == 0:
        out = out.iloc[:0]
    tail = [
        c
        for c in values.columns
        if c in {"numerator", "denominator", "value", "lowercl", "uppercl"}
        or c.startswith(("lower", "upper"))
    ]
    tail += [c for c in ("confidence", "statistic", "method") if c in values.columns]
    return pd.concat([out, values[tail]], axis=1).reset_index(drop=True)
