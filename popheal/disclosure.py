"""Statistical disclosure control for aggregate outputs, and a scanner that checks written outputs.

Everything in a run's ``packs/`` folder passes :func:`apply` at the one export point
(``popheal.reports.export``); :func:`scan` checks a folder of outputs afterwards. The rules (DESIGN.md,
"Disclosure control"; reference/domain-spec.md section G):

* counts from 1 to the threshold (default 7) are suppressed; every other count is rounded to the nearest
  base (default 5, halves up); zero stays zero. Source: NHS Digital, "Change to disclosure control
  methodology for HES and ECDS from September 2018" (sub-national counts: 1-7 shown as ``*``, others rounded
  to the nearest 5); OpenSAFELY documentation, "Statistical disclosure control" (docs/outputs/sdc.md: redact
  counts of 7 or fewer, then round to the nearest 5) and ehrQL's built-in measures disclosure control
  (opensafely-core/ehrql PR #1746, constants 7 and 5).
* a crude rate or percentage beside a count is recomputed from the rounded numerator and denominator, and
  suppressed with its numerator or denominator (HES 2018: percentages from rounded figures; ehrQL
  recomputes the ratio from the rounded numerator and denominator).
* standardised rates and ratios and confidence limits are computed from unrounded data and left unrounded
  (HES 2018: "complex statistics" need no rounding), but suppressed where their numerator is suppressed or
  lies from 1 to the threshold (HES 2018: a statistic fed by 1-7 values is shown as ``*``).
* secondary suppression: where a shown total would let a suppressed cell be worked out by subtraction, more
  cells are suppressed (the next smallest non-zero cell first) until no suppressed cell can be derived, in any
  dimension or chain of dimensions (domain-spec G.2; HES 2018 "manual secondary suppression").

A suppressed cell is ``NaN`` in its column plus ``True`` in a ``<column>_suppressed`` flag column; in HTML
it is ``*`` with a footnote.
"""

from __future__ import annotations

import argparse
import csv
import html
import io
import json
import re
import sys
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

__all__ = [
    "COUNT_WORDS",
    "FLAG_SUFFIX",
    "ROUNDING_BASE",
    "SUPPRESSION_THRESHOLD",
    "DisclosedTable",
    "Finding",
    "ScanReport",
    "apply",
    "check_rules",
    "footnote",
    "is_count_name",
    "is_valid_nhs_number",
    "round_to_base",
    "scan",
    "scan_main",
]

#: Counts from 1 to this value are suppressed (OpenSAFELY SDC; NHS Digital HES/ECDS 2018).
SUPPRESSION_THRESHOLD = 7
#: Other counts are rounded to the nearest multiple of this (same sources).
ROUNDING_BASE = 5
#: A suppressed cell of column ``c`` is flagged ``True`` in column ``c + FLAG_SUFFIX``.
FLAG_SUFFIX = "_suppressed"
#: Column-name words that mark a column as a count of people or events (DESIGN.md "Disclosure control").
COUNT_WORDS = frozenset(
    {"count", "counts", "n", "number", "numbers", "patient", "patients", "registered", "observed",
     "referral", "referrals", "admission", "admissions", "attendance", "attendances"}
)
# Words that make a column a derived figure even when it also names people ("rate per 1,000 patients").
_NOT_COUNT_WORDS = frozenset(
    {"rate", "per", "percent", "percentage", "pct", "ratio", "proportion", "share", "mean", "median",
     "average", "avg", "expected", "lower", "upper", "lowercl", "uppercl", "ci", "score", "rank", "decile",
     "quintile", "age", "id", "code", "suppressed"}
)


# --------------------------------------------------------------------------------------------------------
# apply


@dataclass(frozen=True, eq=False)
class DisclosedTable:
    """A disclosure-controlled table: the data, what was controlled, and how to show it.

    Attributes
    ----------
    data : the disclosed DataFrame. Count columns are float (rounded values, ``NaN`` where suppressed);
        rates are recomputed from the rounded counts; protected (standardised) columns keep their unrounded
        values except where suppressed; every controlled column ``c`` is followed by a bool flag column
        ``c_suppressed``. ``data.attrs["disclosure"]`` records the rules applied.
    counts, rates, protect : the controlled columns, as passed to :func:`apply`.
    threshold, base : the rules applied.
    secondary : bool DataFrame over the count columns, ``True`` where a cell was suppressed only so that a
        shown total cannot reveal another suppressed cell.
    """

    data: pd.DataFrame
    counts: tuple[str, ...]
    rates: Mapping[str, tuple[str, str, float]]
    protect: Mapping[str, str]
    threshold: int
    base: int
    secondary: pd.DataFrame

    @property
    def controlled(self) -> tuple[str, ...]:
        """Every column the rules touched: counts, then rates, then protected columns."""
        return self.counts + tuple(self.rates) + tuple(self.protect)

    @property
    def suppressed(self) -> pd.DataFrame:
        """Bool mask of suppressed cells, one column per controlled column."""
        return pd.DataFrame(
            {c: self.data[c + FLAG_SUFFIX].to_numpy() for c in self.controlled}, index=self.data.index
        )

    @property
    def footnote(self) -> str:
        """The plain-English note that goes under the table."""
        return footnote(
            self.threshold,
            self.base,
            rates=bool(self.rates),
            protected=bool(self.protect),
            secondary=bool(self.secondary.to_numpy().any()),
        )

    def display_columns(self) -> list[str]:
        """The columns a reader sees (the flag columns are for machines)."""
        flags = {c + FLAG_SUFFIX for c in self.controlled}
        return [c for c in self.data.columns if c not in flags]

    def to_html(
        self,
        caption: str | None = None,
        source: str | None = None,
        summary: str | None = None,
        labels: Mapping[str, str] | None = None,
        decimals: int | Mapping[str, int] = 1,
    ) -> str:
        """An accessible HTML table: ``<caption>``, column and row headers, ``*`` for suppressed cells,
        thousands separators, then the footnote and a "Source: ..." line.

        ``labels`` renames columns for the reader; ``decimals`` sets the decimal places of non-count numeric
        columns (one number, or a mapping column -> places; default 1). Count-column headers carry
        ``data-count="true"`` so that :func:`scan` knows them.
        """
        return _render_html(self, caption, source, summary, labels or {}, decimals)

    def _repr_html_(self) -> str:
        return self.to_html()


def apply(
    table: pd.DataFrame,
    counts: str | Sequence[str],
    rates: Mapping[str, tuple[str, str, float]] | None = None,
    threshold: int = SUPPRESSION_THRESHOLD,
    base: int = ROUNDING_BASE,
    totals: Sequence[str | Sequence[str]] | str | None = None,
    protect: Mapping[str, str | Sequence[str]] | None = None,
    denominators: Mapping[str, str] | None = None,
) -> DisclosedTable:
    """Suppress small counts, round the rest, recompute rates, protect standardised figures and totals.

    Method: NHS Digital HES/ECDS disclosure control (September 2018) and the OpenSAFELY SDC rules
    (docs/outputs/sdc.md; ehrQL measures disclosure control): counts 1..threshold suppressed, other counts
    rounded to the nearest ``base``, zero kept; ratios recomputed from the rounded numerator and
    denominator; secondary suppression as in reference/domain-spec.md G.2.

    Parameters
    ----------
    table : the aggregate table (one row per cell; never patient rows). It is not modified.
    counts : the count columns (people or events). Each must hold non-negative whole numbers.
    rates : crude rates or percentages to recompute from the rounded counts, as
        ``{rate_column: (numerator, denominator, multiplier)}``; e.g. ``{"percent": ("n", "registered",
        100)}``. The numerator must be a count column; the denominator may be a count column (its rounded
        value is used) or any other numeric column (e.g. a published list size, used as it is). The rate column
        is created or overwritten; a zero denominator gives ``NaN`` (not flagged as suppressed). Where the
        denominator count is suppressed (1..threshold) the numerator count is suppressed too, zero included.
    denominators : ``{count_column: denominator_count_column}`` for counts that are part of another count in
        the same row without a rate beside them (e.g. admissions among a group's patients): where the
        denominator is 1..threshold the count is suppressed too, zero included. Rates' numerators and
        denominators are added automatically, and the rule is applied along chains (x of y of z).
    threshold, base : the area's rules (from the area YAML); counts 1..threshold are suppressed, others are
        rounded to the nearest ``base`` (``base=1`` leaves them unrounded).
    totals : the totals that are shown (in this table, another table or the text), so that no suppressed
        cell can be worked out from them. Each entry is a column name or a tuple of column names: "a total
        of every count column is shown for each value of these columns", as ``table.groupby(entry).sum()``.
        For a practice x sex table, ``totals=["practice_code", "sex"]`` means a total per practice and a total
        per sex are shown; ``[()]`` means one grand total; an entry of count columns, e.g.
        ``[("female", "male")]``, means a row total across those count columns is shown (a wide table). A
        total that is itself 1..threshold is taken to be suppressed where it is shown (show totals only
        through this function: computed from unrounded cells, then suppressed or rounded).
    protect : standardised or modelled figures to suppress with their numerator, as ``{column:
        numerator_column}``, e.g. ``dict.fromkeys(["value", "lowercl", "uppercl"], "observed")``, or with any of
        several columns, ``{column: (numerator, denominator)}``: a proportion's confidence limits must go when
        its denominator is hidden too, as the limits of 0 out of n identify n. Values are
        kept unrounded (they are computed from unrounded data), and suppressed where the numerator is 1..threshold
        or, for a count-column numerator, wherever that count is suppressed (including secondary suppression,
        so that ``ratio x expected`` cannot give back a suppressed count).

    Returns
    -------
    DisclosedTable, whose ``data`` is the disclosed DataFrame (see :class:`DisclosedTable`).

    "Cannot be worked out" here means: treating every shown figure, totals included, as exact, no suppressed
    cell is a linear combination of shown figures (each group with a shown total holds zero or at least two
    suppressed cells, and no chain of subtractions across groups isolates one). This holds even when a total
    is shown unrounded elsewhere (e.g. a published list size). What it does not exclude is range reasoning
    (cells are non-negative; a hidden primary cell is 1..threshold), which can narrow a hidden cell and, with
    exact totals, occasionally pin one (e.g. [1, 8, 50] with total 59: 1 and 8 hidden, 59 - 50 = 9 = 1 + 8). That
    is why every shown cell and total is rounded too: each is only known to within ``base // 2``, so the same
    reasoning leaves the hidden 1 anywhere in 1..6. Zeros are hidden only as a last resort, as a hidden zero
    helps range reasoning most.
    """
    counts = [counts] if isinstance(counts, str) else list(counts)
    rates = dict(rates or {})
    protect = dict(protect or {})
    check_rules(threshold, base)
    _check_columns(table, counts, rates, protect)
    groups_spec = _normalise_totals(table, counts, totals)

    n = len(table)
    raw = np.column_stack([_as_counts(table[c], c) for c in counts]) if n else np.zeros((0, len(counts)), int)
    primary = (raw >= 1) & (raw <= threshold)
    # a numerator over a suppressed denominator goes too: "0 of a hidden 1-7" says that none of a handful of
    # people has the attribute (OpenSAFELY's warning about 0% / 100% cells); repeated along chains
    parts = {num: den for num, den, _ in rates.values() if num in counts and den in counts}
    parts.update(denominators or {})
    unknown = [c for pair in parts.items() for c in pair if c not in counts]
    if unknown:
        raise ValueError(f"disclosure.apply: denominators must name count columns; not counts: {unknown}")
    changed = True
    while changed:
        changed = False
        for num, den in parts.items():
            i, j = counts.index(num), counts.index(den)
            grow = primary[:, j] & ~primary[:, i]
            if grow.any():
                primary[:, i] |= grow
                changed = True
    groups = _build_groups(table, counts, groups_spec)
    suppressed = _secondary_suppression(raw.ravel(order="F"), primary.ravel(order="F"), groups, threshold)
    suppressed = suppressed.reshape(raw.shape, order="F")
    rounded = np.where(suppressed, np.nan, round_to_base(raw, base))

    out = table.copy()
    flags: dict[str, np.ndarray] = {}
    shown = {}
    for j, c in enumerate(counts):
        out[c] = rounded[:, j]
        flags[c] = suppressed[:, j]
        shown[c] = rounded[:, j]
    for r, (num, den, multiplier) in rates.items():
        denominator = shown[den] if den in shown else table[den].to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.where(denominator > 0, shown[num] / denominator * float(multiplier), np.nan)
        flags[r] = flags[num] | (flags[den] if den in counts else False)
        out[r] = np.where(flags[r], np.nan, value)
    for p, sources in protect.items():
        mask = np.zeros(n, dtype=bool)
        for num in (sources,) if isinstance(sources, str) else tuple(sources):
            if num in counts:
                mask |= flags[num]
            else:
                values = _numeric(table[num], num)
                mask |= (values >= 1) & (values <= threshold)
        flags[p] = mask
        out[p] = out[p].where(~mask)

    order: list[str] = []
    for c in out.columns:
        order.append(c)
        if c in flags:
            out[c + FLAG_SUFFIX] = flags[c]
            order.append(c + FLAG_SUFFIX)
    out = out[order]
    out.attrs = {
        **table.attrs,
        "disclosure": {"threshold": threshold, "base": base, "counts": counts, "rates": list(rates),
                       "protect": list(protect)},
    }
    secondary = pd.DataFrame(suppressed & ~primary, columns=counts, index=table.index)
    return DisclosedTable(out, tuple(counts), rates, protect, threshold, base, secondary)


def round_to_base(values, base: int = ROUNDING_BASE) -> np.ndarray:
    """Round to the nearest multiple of ``base``, halves up (13 -> 15, 12 -> 10 with base 5); 0 stays 0."""
    values = np.asarray(values, dtype=float)
    return np.floor(values / base + 0.5) * base


def footnote(threshold: int = SUPPRESSION_THRESHOLD, base: int = ROUNDING_BASE, rates: bool = False,
             protected: bool = False, secondary: bool = False) -> str:
    """The footnote for a table disclosed with these rules, e.g. "* fewer than 8 (1 to 7) ..."."""
    parts = []
    if threshold >= 1:
        small = "1" if threshold == 1 else f"1 to {threshold}"
        parts.append(f"* fewer than {threshold + 1} ({small}), not shown to protect confidentiality")
    if base > 1:
        parts.append(f"{'other counts' if parts else 'counts'} rounded to the nearest {base}; 0 means none")
    text = "; ".join(parts) + "." if parts else "Counts are shown unrounded."
    if rates:
        text += " Rates and percentages are calculated from the rounded counts."
    if protected:
        text += (" Standardised figures and confidence limits are calculated from unrounded counts and not "
                 f"shown where they rest on fewer than {threshold + 1} events.")
    if secondary:
        text += " Some further cells are also shown as * so that a hidden number cannot be worked out from a total."
    return text


def check_rules(threshold: int, base: int) -> None:
    """Raise ValueError unless the threshold is a whole number >= 0 and the base a whole number >= 1."""
    for name, value, least in (("threshold", threshold, 0), ("base", base, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            raise ValueError(f"disclosure: {name} must be a whole number of at least {least}, not {value!r}")


def _check_columns(table, counts, rates, protect) -> None:
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"disclosure.apply: table must be a pandas DataFrame, not {type(table).__name__}")
    if not counts:
        raise ValueError("disclosure.apply: name at least one count column in counts")
    named = list(counts) + list(rates) + list(protect)
    if not all(isinstance(c, str) for c in named):
        raise ValueError(f"disclosure.apply: controlled columns must have text names, not {named}")
    if len(set(counts)) != len(counts):
        raise ValueError(f"disclosure.apply: counts names a column more than once: {counts}")
    if table.columns.duplicated().any():
        raise ValueError(f"disclosure.apply: the table has duplicated column names: {list(table.columns)}")
    for r, spec in rates.items():
        if not (isinstance(spec, (tuple, list)) and len(spec) == 3):
            raise ValueError(f"disclosure.apply: rates[{r!r}] must be (numerator, denominator, multiplier)")
    sources = [c for v in protect.values() for c in ((v,) if isinstance(v, str) else tuple(v))]
    wanted = list(counts) + [spec[1] for spec in rates.values()] + list(protect) + sources
    missing = [c for c in dict.fromkeys(wanted) if c not in table.columns]
    if missing:
        raise ValueError(f"disclosure.apply: column(s) {missing} not found; the columns are {list(table.columns)}")
    for r, (num, den, multiplier) in rates.items():
        if num not in counts:
            raise ValueError(f"disclosure.apply: the numerator of rate {r!r}, {num!r}, must be one of the count "
                             f"columns {counts} so that the rate is recomputed from its rounded value")
        if den not in counts:
            _numeric(table[den], den)
        if isinstance(multiplier, bool) or not isinstance(multiplier, (int, float)) or multiplier <= 0:
            raise ValueError(f"disclosure.apply: the multiplier of rate {r!r} must be a positive number")
    clash = [c for c in list(rates) + list(protect) if c in counts]
    if clash or set(rates) & set(protect):
        raise ValueError(f"disclosure.apply: column(s) {clash or sorted(set(rates) & set(protect))} are named "
                         "twice among counts, rates and protect")
    controlled = list(counts) + list(rates) + list(protect)
    taken = [c + FLAG_SUFFIX for c in controlled if c + FLAG_SUFFIX in table.columns]
    if taken:
        raise ValueError(f"disclosure.apply: the table already has flag column(s) {taken}; pass the table before "
                         "disclosure control, not after")


def _numeric(series: pd.Series, column: str) -> np.ndarray:
    if series.dtype == bool or not pd.api.types.is_numeric_dtype(series):
        raise ValueError(f"disclosure.apply: column {column!r} must be numeric (it is {series.dtype})")
    return series.to_numpy(dtype=float, na_value=np.nan)


def _as_counts(series: pd.Series, column: str) -> np.ndarray:
    """A count column as int64, or an error naming the first rows that are not non-negative whole numbers."""
    rule = f"disclosure.apply: count column {column!r} must hold non-negative whole numbers"
    if series.dtype == bool:
        raise ValueError(f"{rule}, not True/False (use .astype(int) for 0/1)")
    if series.dtype == object or pd.api.types.is_string_dtype(series):
        converted = pd.to_numeric(series, errors="coerce")
        values = converted.to_numpy(dtype=float, na_value=np.nan)
    elif pd.api.types.is_numeric_dtype(series):
        values = series.to_numpy(dtype=float, na_value=np.nan)
    else:
        raise ValueError(f"{rule} (it is {series.dtype})")
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(values) | (values < 0) | (values != np.round(values))
    if bad.any():
        where = np.flatnonzero(bad)
        shown = ", ".join(f"{series.index[i]!r} ({series.iloc[i]})" for i in where[:5])
        raise ValueError(f"{rule}; {len(where)} row(s) do not, first (index label and value): {shown}")
    return values.astype(np.int64)


def _normalise_totals(table, counts, totals) -> list[tuple[str, ...]]:
    if totals is None:
        return []
    entries = [totals] if isinstance(totals, str) else list(totals)
    out = []
    for entry in entries:
        names = (entry,) if isinstance(entry, str) else tuple(entry)
        missing = [c for c in names if c not in table.columns]
        if missing:
            raise ValueError(f"disclosure.apply: totals names column(s) {missing} that the table lacks")
        in_counts = [c for c in names if c in counts]
        if in_counts and len(in_counts) != len(names):
            raise ValueError(f"disclosure.apply: a totals entry lists grouping columns or count columns (a row "
                             f"total across them), not both: {names}")
        out.append(names)
    return out


def _build_groups(table, counts, specs) -> list[np.ndarray]:
    """Cell groups whose sums are shown; a cell is ``column_position * n_rows + row_position``."""
    n = len(table)
    position = {c: j for j, c in enumerate(counts)}
    groups: list[np.ndarray] = []
    for names in specs:
        if names and names[0] in position:  # a row total across count columns
            cols = np.array([position[c] for c in names])
            groups.extend(cols * n + i for i in range(n))
            continue
        if names:
            codes = table.groupby(list(names), dropna=False, sort=False).ngroup().to_numpy()
        else:
            codes = np.zeros(n, dtype=np.int64)
        order = np.argsort(codes, kind="stable")
        splits = np.flatnonzero(np.diff(codes[order])) + 1
        for rows in np.split(order, splits) if n else []:
            for j in range(len(counts)):
                groups.append(j * n + rows)
    return groups


def _secondary_suppression(values, primary, groups, threshold) -> np.ndarray:
    """Suppress more cells until no suppressed cell can be worked out from the shown totals.

    A group counts when it has two or more cells and its total is shown (its sum is not 1..threshold, where
    the total itself would be suppressed). First, while some group holds exactly one suppressed cell, one more
    cell of such a group is suppressed. Then a suppressed cell is still derivable when its unit vector lies in
    the row space of the groups' incidence matrix over the suppressed cells (a chain of subtractions across
    dimensions); one more cell of a group holding such a cell is suppressed, and the check repeats
    (domain-spec G.2: "repeat until no suppressed cell can be worked out ... in any dimension").

    The cell chosen is, in order: not a zero known from a zero total (hiding it protects nothing), non-zero
    (a hidden zero lets range reasoning narrow its partner), closing the most one-hidden-cell groups at once,
    then the smallest.
    """
    suppressed = primary.copy()
    groups = [g for g in groups if len(g) >= 2 and not (1 <= values[g].sum() <= threshold)]
    if not groups or not suppressed.any():
        return suppressed
    known = np.zeros(len(values), dtype=bool)
    for g in groups:
        if values[g].sum() == 0:
            known[g] = True

    def pick(candidate_groups: list[np.ndarray]) -> int | None:
        hits = np.zeros(len(values))
        for g in candidate_groups:
            hits[g[~suppressed[g]]] += 1
        cells = np.flatnonzero(hits)
        if not len(cells):
            return None
        order = np.lexsort((cells, values[cells], -hits[cells], values[cells] == 0, known[cells]))
        return int(cells[order[0]])

    while True:
        single = [g for g in groups if suppressed[g].sum() == 1]
        if single:
            suppressed[pick(single)] = True
            continue
        active = [g for g in groups if suppressed[g].any()]
        cells = np.flatnonzero(suppressed)
        derivable = _derivable(active, cells, len(values))
        if not derivable.any():
            return suppressed
        targets = set(cells[derivable].tolist())
        chosen = pick([g for g in active if targets.intersection(g.tolist())])
        if chosen is None:
            chosen = pick(active)
        if chosen is None:
            raise ValueError("disclosure.apply: cannot protect the suppressed cells from the totals shown; merge "
                             "small categories or show fewer totals")
        suppressed[chosen] = True


def _derivable(groups: list[np.ndarray], cells: np.ndarray, size: int) -> np.ndarray:
    """For each suppressed cell, whether the shown totals determine it (its unit vector is in the row space)."""
    column = np.full(size, -1)
    column[cells] = np.arange(len(cells))
    matrix = np.zeros((len(groups), len(cells)))
    for i, g in enumerate(groups):
        k = column[g]
        matrix[i, k[k >= 0]] = 1.0
    if not len(groups):
        return np.zeros(len(cells), dtype=bool)
    _, singular, vt = np.linalg.svd(matrix)
    rank = int((singular > 1e-9 * max(matrix.shape)).sum())
    null = vt[rank:]
    # e_j is in the row space exactly when its projection on the null space, of norm ||null[:, j]||, is zero
    return np.linalg.norm(null, axis=0) < 1e-6 if len(null) else np.ones(len(cells), dtype=bool)


# --------------------------------------------------------------------------------------------------------
# HTML


def _render_html(table: DisclosedTable, caption, source, summary, labels, decimals) -> str:
    data = table.data
    columns = table.display_columns()
    esc = html.escape
    counts = set(table.counts)
    flags = {c: data[c + FLAG_SUFFIX].to_numpy() for c in table.controlled}
    row_header = columns[0] if columns and not pd.api.types.is_numeric_dtype(data[columns[0]]) else None
    places = {c: (decimals.get(c, 1) if isinstance(decimals, Mapping) else decimals) for c in columns}

    lines = ['<div class="popheal-table">', '<table class="popheal-table">']
    if caption:
        lines.append(f"<caption>{esc(caption)}</caption>")
    head = []
    for c in columns:
        label = esc(str(labels.get(c, str(c).replace("_", " "))))
        extra = ' data-count="true"' if c in counts else ""
        align = ' class="num"' if pd.api.types.is_numeric_dtype(data[c]) and data[c].dtype != bool else ""
        head.append(f'<th scope="col"{align}{extra}>{label}</th>')
    lines.append("<thead><tr>" + "".join(head) + "</tr></thead>")
    lines.append("<tbody>")
    values = {c: data[c].to_numpy() for c in columns}
    for i in range(len(data)):
        cells = []
        for c in columns:
            if c in flags and flags[c][i]:
                text, attrs = "*", ' class="num suppressed" title="not shown (see note)"'
            else:
                text = _format_cell(values[c][i], c in counts, places[c])
                attrs = ' class="num"' if pd.api.types.is_numeric_dtype(data[c]) and data[c].dtype != bool else ""
            tag = "th" if c == row_header else "td"
            scope = ' scope="row"' if tag == "th" else ""
            cells.append(f"<{tag}{scope}{attrs}>{esc(text)}</{tag}>")
        lines.append("<tr>" + "".join(cells) + "</tr>")
    lines.append("</tbody></table>")
    lines.append(f'<p class="popheal-footnote">{esc(table.footnote)}</p>')
    if summary:
        lines.append(f'<p class="popheal-summary">{esc(summary)}</p>')
    if source:
        lines.append(f'<p class="popheal-source">Source: {esc(source)}</p>')
    lines.append("</div>")
    return "\n".join(lines)


def _format_cell(value, is_count: bool, places: int) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return "–"
    if isinstance(value, (bool, np.bool_)):
        return "Yes" if value else "No"
    if isinstance(value, (int, np.integer)) or (is_count and isinstance(value, (float, np.floating))):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        return f"{value:,.{places}f}"
    return str(value)


# --------------------------------------------------------------------------------------------------------
# scan

_MISSING = frozenset({"", "*", "-", "–", "—", "..", ".", "n/a", "na", "nan", "none", "null", "<na>", "[c]", "[x]",
                      "[z]", "[redacted]", "redacted", "suppressed", "x", "c"})
_SKIPPED = frozenset({".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".ico", ".css", ".js", ".woff",
                      ".woff2", ".ttf"})
_TABLE_SUFFIXES = frozenset({".csv", ".xlsx", ".html", ".htm"})
_ID_EXACT = frozenset({"patientid", "personid", "pseudoid", "pseudonym", "pseudonymisedid", "pseudonymizedid",
                       "nhsnumber", "nhsno", "nhsnum", "newnhsno", "localpatientid", "patid", "pid", "mrn",
                       "hospitalnumber", "chinumber", "subjectid", "participantid", "clientid",
                       "patientnumber", "personnumber", "patientkey", "personkey"})
_ID_PARTS = ("patientid", "personid", "pseudo", "nhsnumber", "nhsno")
_DOB_PARTS = ("dateofbirth", "birthdate", "dob", "birthday", "yearofbirth", "monthofbirth", "birthyear",
              "birthmonth", "birthdt")
_ORG_WORDS = frozenset({"practice", "pcn", "ccg", "icb", "lsoa", "lsoa11", "msoa", "area", "org", "provider",
                        "site", "trust", "lad", "region", "specialty", "indicator", "measure", "ods"})
_AGGREGATE_WORDS = COUNT_WORDS | {"population", "total", "totals", "denominator", "numerator", "value", "rate",
                                  "percent", "percentage", "proportion", "share", "frequency", "freq", "sum",
                                  "mean", "median", "expected", "ratio", "persons", "people"}
_YES_NO = frozenset({"true", "false", "0", "1", "y", "n", "yes", "no"})
_DATE = re.compile(r"^(?:(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00)?)?|(\d{2})/(\d{2})/(\d{4}))$")
_PER_RULE_LIMIT = 5


@dataclass(frozen=True)
class Finding:
    """One problem found by :func:`scan`: where it is (file, table or sheet, 1-based data row, column),
    the offending value (identifiers are masked), the rule code and a plain-English message."""

    file: str
    rule: str
    message: str
    table: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        where = [self.file] + [p for p in (self.table,) if p]
        cell = ", ".join(p for p in (f"row {self.row}" if self.row else "",
                                     f"column {self.column!r}" if self.column is not None else "") if p)
        value = f" ({self.value})" if self.value is not None else ""
        return f"{' / '.join(where)}{f' [{cell}]' if cell else ''}: {self.rule}{value}: {self.message}"


@dataclass
class ScanReport:
    """What :func:`scan` found: ``findings`` (empty when clean), the files read and the files skipped."""

    path: str
    threshold: int
    base: int
    files: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def format(self) -> str:
        """Plain text for the command line."""
        head = (f"popheal scan {self.path}: {len(self.files)} file(s) checked, {len(self.skipped)} image/style "
                f"file(s) skipped; threshold {self.threshold}, rounding base {self.base}.")
        if self.ok:
            return head + "\nNo problems found."
        bad = len({f.file for f in self.findings})
        lines = [head, f"{len(self.findings)} problem(s) in {bad} file(s):"]
        lines += [f"- {f}" for f in self.findings]
        return "\n".join(lines)


def is_count_name(name: str) -> bool:
    """Whether a column name reads as a count (word match, case-insensitive): ``observed``, ``n_patients``,
    ``referrals_count``, ``Number of admissions``; not ``rate per 1,000 patients`` or ``patient_id``."""
    words = set(_words(name))
    return bool(words & COUNT_WORDS) and not words & _NOT_COUNT_WORDS


def is_valid_nhs_number(value) -> bool:
    """Whether a value is a 10-digit NHS number with a valid modulus 11 check digit (spaces and hyphens
    ignored). Weights 10..2 on the first nine digits; check = 11 - (sum mod 11), 11 -> 0, 10 invalid (NHS
    Data Dictionary, "NHS Number")."""
    digits = re.sub(r"[\s-]", "", str(value))
    return bool(re.fullmatch(r"\d{10}", digits)) and bool(_nhs_check(np.array([list(digits)], dtype=int))[0])


def scan(path: str | Path, threshold: int = SUPPRESSION_THRESHOLD, base: int = ROUNDING_BASE) -> ScanReport:
    """Check every table in the CSV, XLSX and HTML files under ``path`` (and inside .zip files) for
    disclosure problems.

    Count columns are those a pack's ``manifest.json`` lists for the file (the nearest manifest at or above the
    file, when a folder or zip is scanned; a single file is judged by its column names), the ``data-count`` headers of popheal's HTML tables, or else integer columns whose name reads as a
    count (:func:`is_count_name`). Rules reported:

    * ``small-count``: a count from 1 to the threshold (the stricter of ``threshold`` and the manifest's);
    * ``unrounded-count``: a count that is not a multiple of the base (or not a whole number);
    * ``identifier-column``: a column named like a patient, person or pseudonymised identifier or NHS number;
    * ``nhs-number``: a 10-digit value with a valid modulus 11 check digit, in any column;
    * ``date-of-birth``: a column named like a date of birth, or holding day-precision dates spread over 15+
      years (not the first of the month), as birth dates are;
    * ``patient-level``: a record-identifier column with a distinct value on every row (5+ rows); or 10+ rows
      with two person attributes (single-year age, sex, LSOA/postcode, ethnicity, date of birth) and no
      aggregate column (counts, population, total, rate...); or 10+ rows with a person attribute and three or
      more yes/no columns (per-person flags);
    * ``manifest``: a manifest that cannot be read, or names a file or count column that is missing;
    * ``unreadable`` / ``unchecked-file``: a file that cannot be parsed, or of a type the scanner cannot check.

    ``*``, empty and similar suppression markers are fine. Images (and CSS/JS) are skipped. Identifier values
    are masked in the report. Sources: OpenSAFELY output checking (docs/outputs/sdc.md); NHS Digital HES/ECDS
    disclosure control (2018).
    """
    check_rules(threshold, base)
    root = Path(path)
    if not root.exists():
        raise FileNotFoundError(f"popheal scan: {root} does not exist")
    report = ScanReport(str(root), threshold, base)
    for container in _containers(root, report):
        manifests = _load_manifests(container, report)
        for member in container.files:
            suffix = PurePosixPath(member).suffix.lower()
            name = container.display(member)
            if PurePosixPath(member).name == "manifest.json":
                continue
            if suffix in _SKIPPED:
                report.skipped.append(name)
                continue
            if suffix not in _TABLE_SUFFIXES:
                report.findings.append(Finding(name, "unchecked-file", "the scanner cannot check this type of "
                                               "file; packs hold only HTML, CSV, XLSX and images"))
                continue
            report.files.append(name)
            entries = _manifest_entries(manifests, member)
            try:
                tables = _read_tables(container.read(member), suffix)
            except Exception as error:  # noqa: BLE001 - any parse failure is reported, not raised
                report.findings.append(Finding(name, "unreadable", f"could not read the file ({error})"))
                continue
            for label, frame, marked in tables:
                _check_table(report, name, label, frame, marked, entries, threshold, base)
    return report


def scan_main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry for ``popheal scan PATH``: prints the report; 0 when clean, 1 when anything is
    found, 2 when the path does not exist."""
    parser = argparse.ArgumentParser(prog="popheal scan", description="Check outputs for disclosure problems.")
    parser.add_argument("path", help="a pack folder, a folder of packs, a .zip or a single file")
    parser.add_argument("--threshold", type=int, default=SUPPRESSION_THRESHOLD, help="suppress counts 1..N")
    parser.add_argument("--base", type=int, default=ROUNDING_BASE, help="counts must be multiples of this")
    args = parser.parse_args(argv)
    try:
        report = scan(args.path, threshold=args.threshold, base=args.base)
    except (FileNotFoundError, ValueError) as error:
        print(error, file=sys.stderr)
        return 2
    print(report.format())
    return 0 if report.ok else 1


@dataclass
class _Container:
    """A folder (or zip file) of files, addressed by POSIX paths relative to its root."""

    files: list[str]
    read: Callable[[str], bytes]
    display: Callable[[str], str]


def _containers(root: Path, report: ScanReport) -> list[_Container]:
    if root.is_file():
        base, paths = root.parent, [root]
    else:
        base, paths = root, sorted(p for p in root.rglob("*") if p.is_file())
    plain, out = [], []
    for p in paths:
        rel = p.relative_to(base).as_posix()
        if p.suffix.lower() == ".zip":
            try:
                with zipfile.ZipFile(p) as archive:
                    members = {n: archive.read(n) for n in archive.namelist() if not n.endswith("/")}
            except (zipfile.BadZipFile, OSError) as error:
                report.findings.append(Finding(rel, "unreadable", f"could not open the zip file ({error})"))
                continue
            out.append(_Container(sorted(members), members.__getitem__, lambda m, rel=rel: f"{rel}/{m}"))
        else:
            plain.append(rel)
    out.insert(0, _Container(plain, lambda m: (base / m).read_bytes(), lambda m: m))
    return out


def _load_manifests(container: _Container, report: ScanReport) -> dict[PurePosixPath, dict]:
    manifests = {}
    for member in container.files:
        if PurePosixPath(member).name != "manifest.json":
            continue
        folder = PurePosixPath(member).parent
        try:
            data = json.loads(container.read(member).decode("utf-8"))
            entries = {str(folder / e["file"]): e for e in data.get("tables", [])}
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            report.findings.append(Finding(container.display(member), "manifest", f"cannot read it ({error})"))
            continue
        manifests[folder] = entries
        present = set(container.files)
        for file in entries:
            if PurePosixPath(file).as_posix() not in present:
                report.findings.append(Finding(container.display(member), "manifest",
                                               f"lists {file!r}, which is not there"))
    return manifests


def _manifest_entries(manifests: dict[PurePosixPath, dict], member: str) -> dict | None:
    """The manifest entry for a file, from the nearest manifest at or above its folder."""
    path = PurePosixPath(member)
    for folder in path.parents:
        if folder in manifests:
            return manifests[folder].get(str(path))
    return None


def _read_tables(content: bytes, suffix: str) -> list[tuple[str | None, pd.DataFrame, set[str]]]:
    """Each table in a file as (label, all-string DataFrame, columns marked as counts in the file)."""
    if suffix == ".csv":
        text = _decode(content)
        rows = list(csv.reader(io.StringIO(text)))
        return [(None, _frame(rows[0], rows[1:]), set())] if rows else []
    if suffix == ".xlsx":
        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        out = []
        for sheet in book.worksheets:
            rows = [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
            rows = [r for r in rows if any(v != "" for v in r)]
            if rows:
                out.append((f"sheet {sheet.title!r}", _frame(rows[0], rows[1:]), set()))
        book.close()
        return out
    parser = _TableParser()
    parser.feed(_decode(content))
    parser.close()
    out = []
    for k, t in enumerate(parser.tables, start=1):
        header, body, marked = t.header_and_body()
        if header or body:
            out.append((f"table {k}", _frame(header, body), marked))
    return out


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
    return str(value)


def _frame(header: list, body: list[list]) -> pd.DataFrame:
    width = max([len(header)] + [len(r) for r in body])
    names = [str(h).strip() for h in header] + [f"column {k + 1}" for k in range(len(header), width)]
    rows = [[str(v) for v in r] + [""] * (width - len(r)) for r in body]
    frame = pd.DataFrame(rows, columns=range(width), dtype=object)
    frame.attrs["names"] = names
    return frame


class _HTMLTable:
    def __init__(self):
        self.rows: list[tuple[bool, list[list]]] = []  # (in thead, [[text parts, is_th, marked], ...])

    def header_and_body(self):
        rows = [(h, [("".join(c[0]).strip(), c[1], c[2]) for c in r]) for h, r in self.rows]
        head = [r for in_head, r in rows if in_head]
        rest = [r for in_head, r in rows if not in_head]
        if not head and rest and all(is_th for _, is_th, _ in rest[0]):
            head, rest = [rest[0]], rest[1:]
        header = [text for text, _, _ in head[-1]] if head else []
        marked = {text for text, _, mark in head[-1] if mark} if head else set()
        return header, [[text for text, _, _ in r] for r in rest], marked


class _TableParser(HTMLParser):
    """Collects the text of every ``<table>`` (nested tables separately) with the stdlib parser."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables: list[_HTMLTable] = []
        self._stack: list[tuple[_HTMLTable, dict]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            table = _HTMLTable()
            self.tables.append(table)
            self._stack.append((table, {"thead": False, "row": None, "cell": None}))
        elif not self._stack:
            return
        table, state = self._stack[-1]
        if tag in ("thead", "tbody", "tfoot"):
            state["thead"] = tag == "thead"
        elif tag == "tr":
            state["row"] = []
            table.rows.append((state["thead"], state["row"]))
        elif tag in ("td", "th") and state["row"] is not None:
            marked = dict(attrs).get("data-count") not in (None, "false")
            state["cell"] = [[], tag == "th", marked]
            state["row"].append(state["cell"])

    def handle_endtag(self, tag):
        if not self._stack:
            return
        state = self._stack[-1][1]
        if tag == "table":
            self._stack.pop()
        elif tag == "thead":
            state["thead"] = False
        elif tag in ("td", "th"):
            state["cell"] = None

    def handle_data(self, data):
        if self._stack and self._stack[-1][1]["cell"] is not None:
            self._stack[-1][1]["cell"][0].append(data)


def _words(name: str) -> list[str]:
    name = re.sub(r"([a-z])([A-Z])", r"\1 \2", str(name))
    return re.findall(r"[a-z]+\d*|\d+", name.lower())


def _squash(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def _nhs_check(digits: np.ndarray) -> np.ndarray:
    """Modulus 11 check on rows of 10 digits (NHS Data Dictionary, "NHS Number")."""
    remainder = (digits[:, :9] * np.arange(10, 1, -1)).sum(axis=1) % 11
    check = (11 - remainder) % 11
    return (check != 10) & (check == digits[:, 9])


class _Cells:
    """A table's cells parsed once, as (rows x columns) arrays: text, missing markers, numbers, NHS-number
    candidates, yes/no values and date parts."""

    def __init__(self, frame: pd.DataFrame):
        shape = frame.shape
        flat = pd.Series(frame.to_numpy(dtype=object).ravel(order="F"), dtype=object).astype(str).str.strip()
        lower = flat.str.lower()

        def grid(series, dtype=None):
            return series.to_numpy(dtype=dtype).reshape(shape, order="F")

        self.text = grid(flat, object)
        self.missing = grid(lower.isin(list(_MISSING)), bool)
        self.numbers = grid(pd.to_numeric(flat.str.replace(r"(?<=\d),(?=\d{3}(?:\D|$))", "", regex=True),
                                          errors="coerce"), float)
        self.yes_no = grid(lower.isin(list(_YES_NO)), bool)
        self.lower = grid(lower, object)
        digits = flat.str.replace(r"[\s-]", "", regex=True).str.replace(r"\.0$", "", regex=True)
        self.digits = grid(digits, object)
        self.ten_digits = grid(digits.str.fullmatch(r"\d{10}"), bool)
        dates = flat.str.extract(_DATE)
        iso = dates[0].notna()
        self.year = grid(pd.to_numeric(dates[0].where(iso, dates[5]), errors="coerce"), float)
        self.day = grid(pd.to_numeric(dates[2].where(iso, dates[3]), errors="coerce"), float)


def _check_table(report, file, label, frame, marked, entry, threshold, base) -> None:
    names = frame.attrs["names"]
    add = _Collector(report, file, label)
    cells = _Cells(frame)
    rows = len(frame)

    declared: set[str] | None = None
    limit, bases = threshold, {base}
    if entry is not None:
        sheet = entry.get("sheet")
        if sheet is None or label == f"sheet {sheet!r}":
            declared = set(entry.get("count_columns", []))
            limit = max(threshold, int(entry.get("threshold", threshold)))
            bases.add(int(entry.get("base", base)))
            for c in sorted(declared - set(names)):
                add(None, c, None, "manifest", "the manifest lists this count column but the table lacks it")
    counts = []
    for j, name in enumerate(names):
        present = ~cells.missing[:, j]
        values = cells.numbers[present, j]
        is_int = bool(present.any()) and bool(np.all(values % 1 == 0))
        if declared is not None:
            if name in declared:
                counts.append(j)
        elif name in marked or (is_int and is_count_name(name)):
            counts.append(j)

    for j in counts:
        name, present, value, text = names[j], ~cells.missing[:, j], cells.numbers[:, j], cells.text[:, j]
        with np.errstate(invalid="ignore"):
            checks = [
                (present & np.isnan(value), "unrounded-count", "a count column holds a value that is not a number"),
                (present & (value < 0), "unrounded-count", "a count cannot be negative"),
                (present & (value >= 0) & (value % 1 != 0), "unrounded-count", "a count must be a whole number"),
                (present & (value >= 1) & (value <= limit), "small-count", f"count from 1 to {limit} (suppress it)"),
                (present & (value > limit) & (value % 1 == 0) & np.logical_or.reduce([value % b != 0 for b in bases]),
                 "unrounded-count", f"count not rounded to a multiple of {max(bases)}"),
            ]
        for mask, rule, message in checks:
            for i in np.flatnonzero(mask):
                add(i + 1, name, text[i], rule, message)

    attributes, flags, aggregate = set(), 0, bool(counts)
    for j, name in enumerate(names):
        squashed, words = _squash(name), set(_words(name))
        present = ~cells.missing[:, j]
        n_present = int(present.sum())
        if squashed in _ID_EXACT or any(p in squashed for p in _ID_PARTS):
            add(None, name, None, "identifier-column", "a patient or person identifier column must not be shared")
        if any(p in squashed for p in _DOB_PARTS):
            add(None, name, None, "date-of-birth", "a date of birth column must not be shared")
            attributes.add("dob")
        elif _looks_like_birth_dates(cells.year[present, j], cells.day[present, j]):
            add(None, name, "(dates)", "date-of-birth", "holds day-precision dates spread over many years, as "
                "dates of birth are")
            attributes.add("dob")
        ten = np.flatnonzero(cells.ten_digits[:, j])
        if len(ten):
            digits = cells.digits[ten, j]
            valid = _nhs_check(np.array([list(d) for d in digits], dtype=int))
            for i, d in zip(ten[valid], digits[valid]):
                add(i + 1, name, d[:3] + "*******", "nhs-number", "a valid NHS number (modulus 11) must not be shared")
        if words & _AGGREGATE_WORDS and not words & {"id", "code"}:
            aggregate = True
        attribute = _person_attribute(words, cells.numbers[present, j])
        if attribute:
            attributes.add(attribute)
        if (n_present and not str(name).endswith(FLAG_SUFFIX) and cells.yes_no[present, j].all()
                and len(set(cells.lower[present, j])) == 2):
            flags += 1
        record_id = (words & {"id", "identifier", "uuid", "guid"} or squashed in _ID_EXACT) and not words & _ORG_WORDS
        if record_id and n_present >= 5 and n_present == rows and len(set(cells.text[:, j])) == rows:
            add(None, name, None, "patient-level", "an identifier with a different value on every row: the table "
                "looks like one row per person or event")

    if rows >= 10 and len(attributes) >= 2 and not aggregate:
        add(None, None, None, "patient-level", f"{rows} rows of person attributes ({', '.join(sorted(attributes))})"
            " and no count or other aggregate column")
    elif rows >= 10 and attributes and flags >= 3:
        add(None, None, None, "patient-level", f"{rows} rows with person attributes ({', '.join(sorted(attributes))})"
            f" and {flags} yes/no columns, as per-person flags are")
    add.finish()


def _person_attribute(words: set[str], values: np.ndarray) -> str | None:
    if words & {"sex", "gender"}:
        return "sex"
    if any(w.startswith(("lsoa", "msoa")) for w in words) or "postcode" in words or {"post", "code"} <= words:
        return "geography"
    if words & {"ethnicity", "ethnic"}:
        return "ethnicity"
    if "age" in words and not words & {"band", "bands", "group", "groups", "standardised", "standardized"}:
        with np.errstate(invalid="ignore"):
            if len(values) and np.all((values % 1 == 0) & (values >= 0) & (values <= 120)):
                return "age"
    return None


def _looks_like_birth_dates(year: np.ndarray, day: np.ndarray) -> bool:
    """Day-precision dates (80%+ of values) spread over 15+ years and mostly not the 1st of a month."""
    matched = ~np.isnan(year)
    if len(year) < 5 or matched.mean() < 0.8:
        return False
    year, day = year[matched], day[matched]
    return bool(year.max() - year.min() >= 15 and (day != 1).mean() > 0.5)


class _Collector:
    """Adds findings to a report, at most a few per (column, rule), then a count of the rest."""

    def __init__(self, report: ScanReport, file: str, table: str | None):
        self.report, self.file, self.table = report, file, table
        self.seen: dict[tuple, int] = {}

    def __call__(self, row, column, value, rule, message):
        key = (column, rule)
        self.seen[key] = self.seen.get(key, 0) + 1
        if self.seen[key] <= _PER_RULE_LIMIT:
            self.report.findings.append(Finding(self.file, rule, message, self.table, row, column, value))

    def finish(self):
        for (column, rule), n in self.seen.items():
            if n > _PER_RULE_LIMIT:
                self.report.findings.append(Finding(self.file, rule, f"... and {n - _PER_RULE_LIMIT} more cell(s) "
                                                    "like this", self.table, None, column, None))
