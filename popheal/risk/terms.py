"""Terms of the admission model: how the extract becomes design columns, and how each reads as a "driver".

A term is one covariate of the logistic model (an age band factor, a condition flag, a capped count ...). It
knows its design columns and labels, encodes the extract into those columns (for fitting), adds its share of
the linear predictor without building the full design matrix (for scoring a million rows), and says in plain
English what it means for one patient ("heart failure", "3 emergency admissions", "age 85+", "severe frailty").
Build a model's term list from the constructors here (``age_bands``, ``sex``, ``conditions`` ...).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from popheal.io.errors import InputError, first_rows
from popheal.io.extract_schema import EFI_COLUMNS, LTC_COLUMNS

from ._common import EXTRACT, age, count, flag, flags_sum, require_columns
from .deprivation import IMD_QUINTILES, imd_decile, imd_quintile
from .frailty import EFI_MIN_AGE
from .multimorbidity import CAMBRIDGE_CONDITIONS, cambridge_score

__all__ = [
    "CONDITION_LABELS",
    "Data",
    "DerivedFlagTerm",
    "FactorTerm",
    "FlagTerm",
    "NumericTerm",
    "RenamedFactorTerm",
    "Term",
    "activity",
    "age_bands",
    "age_linear",
    "age_under",
    "cambridge",
    "check_needs",
    "condition",
    "conditions",
    "deprivation",
    "deprivation_score",
    "deprivation_unknown",
    "frailty",
    "ltc_count_bands",
    "male",
    "sex",
    "status",
]

#: Human-readable name of each condition / status flag, used in coefficient tables and drivers.
CONDITION_LABELS: dict[str, str] = {
    "ltc_af": "atrial fibrillation", "ltc_alcohol": "alcohol problems", "ltc_anxiety": "anxiety",
    "ltc_asthma": "asthma", "ltc_cancer": "cancer (ever)", "ltc_cancer_5y": "cancer in the last 5 years",
    "ltc_chd": "coronary heart disease", "ltc_ckd": "chronic kidney disease", "ltc_constipation": "constipation",
    "ltc_copd": "COPD", "ltc_dementia": "dementia", "ltc_depression": "depression", "ltc_diabetes": "diabetes",
    "ltc_epilepsy": "epilepsy", "ltc_hearing_loss": "hearing loss", "ltc_heart_failure": "heart failure",
    "ltc_hypertension": "hypertension", "ltc_ibs": "irritable bowel syndrome",
    "ltc_learning_disability": "learning disability", "ltc_osteoporosis": "osteoporosis",
    "ltc_pad": "peripheral arterial disease", "ltc_painful_condition": "painful condition",
    "ltc_rheumatoid_arthritis": "rheumatoid arthritis / connective tissue disease",
    "ltc_smi": "serious mental illness", "ltc_stroke_tia": "stroke / TIA",
    "palliative": "palliative care register", "pregnant": "pregnant", "care_home": "lives in a care home",
    "housebound": "housebound",
}


class Data:
    """The extract plus what the terms derive from it (eFI, Cambridge score, IMD quintile), each computed once."""

    def __init__(self, extract: pd.DataFrame, imd: pd.DataFrame | None = None):
        self.extract = extract
        self.imd = imd
        self._cache: dict = {}

    def __len__(self) -> int:
        return len(self.extract)

    def cached(self, key, compute: Callable[[], np.ndarray]) -> np.ndarray:
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def age(self) -> np.ndarray:
        return self.cached("age", lambda: age(self.extract))

    def flag(self, column: str) -> np.ndarray:
        return self.cached(("flag", column), lambda: flag(self.extract, column))

    def count(self, column: str) -> np.ndarray:
        return self.cached(("count", column), lambda: count(self.extract, column))

    def efi_deficits(self) -> np.ndarray:
        """Deficit count, -1 under 65."""
        def compute():
            d = flags_sum(self.extract, EFI_COLUMNS, dtype=np.int8)
            return np.where(self.age() >= EFI_MIN_AGE, d, -1).astype(np.int8)

        return self.cached("efi", compute)

    def cambridge(self) -> np.ndarray:
        return self.cached("cms", lambda: cambridge_score(self.extract).to_numpy())

    def imd_deciles(self) -> np.ndarray:
        """IMD decile per patient (NaN unknown): from the IoD table, else the extract's ``imd_decile`` column."""
        def compute():
            if self.imd is not None:
                return imd_decile(self.extract, self.imd).to_numpy()
            if "imd_decile" in self.extract.columns:
                return self.extract["imd_decile"].to_numpy(dtype=np.float64, na_value=np.nan)
            raise InputError(EXTRACT, "the deprivation score needs the imd argument (normalised IoD table) or an "
                             "imd_decile column", "imd_decile")

        return self.cached("imd_decile", compute)

    def imd_codes(self) -> np.ndarray:
        return self.cached("imd", lambda: imd_quintile(self.extract, self.imd).cat.codes.to_numpy())

    def use(self, frailty: pd.DataFrame | None = None, cambridge: pd.Series | None = None) -> Data:
        """Reuse eFI / Cambridge results already computed for this extract (same index)."""
        for name, given in (("frailty", frailty), ("cambridge", cambridge)):
            if given is not None and not given.index.equals(self.extract.index):
                raise ValueError(f"{name} must be computed from the same extract (its index differs)")
        if frailty is not None:
            d = frailty["efi_deficits"].to_numpy(dtype=np.int16, na_value=-1).astype(np.int8)
            self._cache["efi"] = d
        if cambridge is not None:
            self._cache["cms"] = np.asarray(cambridge, dtype=np.float64)
        return self


@dataclass
class Term:
    """One covariate. Subclasses define ``columns``/``labels`` and encoding."""

    name: str
    needs: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:  # design column names
        raise NotImplementedError

    @property
    def labels(self) -> tuple[str, ...]:  # human-readable label of each design column
        raise NotImplementedError

    def design(self, data: Data, rows: np.ndarray | None = None) -> np.ndarray:
        """Design columns (n x k float) for ``rows`` (positions; all when None)."""
        raise NotImplementedError

    def linear(self, data: Data, beta: np.ndarray) -> np.ndarray:
        """This term's share of the linear predictor for every patient."""
        raise NotImplementedError

    def present(self, data: Data) -> np.ndarray:
        """Whether the term describes something the patient has (a driver can only be a present term)."""
        raise NotImplementedError

    def describe(self, data: Data, rows: np.ndarray) -> np.ndarray:
        """Plain-English driver label for each of ``rows`` (object array)."""
        raise NotImplementedError

    def reference(self) -> str:
        return ""


@dataclass
class FlagTerm(Term):
    """A bool flag of the extract (condition or status): one column, label when present."""

    column: str = ""
    label: str = ""

    @property
    def columns(self):
        return (self.column,)

    @property
    def labels(self):
        return (self.label,)

    def _x(self, data):
        return data.flag(self.column)

    def design(self, data, rows=None):
        x = self._x(data)
        return (x if rows is None else x[rows]).astype(np.float64)[:, None]

    def linear(self, data, beta):
        return beta[0] * self._x(data)

    def present(self, data):
        return self._x(data)

    def describe(self, data, rows):
        return np.full(len(rows), self.label, dtype=object)

    def reference(self):
        return f"vs no {self.label}"


@dataclass
class DerivedFlagTerm(FlagTerm):
    """A flag computed from the extract (e.g. age under 5, male)."""

    flag_of: Callable[[Data], np.ndarray] | None = None

    @property
    def columns(self):
        return (self.name,)

    def _x(self, data):
        return data.cached(("derived", self.name), lambda: np.asarray(self.flag_of(data), dtype=bool))

    def reference(self):
        return f"vs not {self.label}"


@dataclass
class FactorTerm(Term):
    """A categorical covariate: one indicator column per level except the reference."""

    levels: tuple[str, ...] = ()
    reference_level: str = ""
    codes: Callable[[Data], np.ndarray] | None = None  # integer code per patient (index into levels)
    label_format: str = "{level}"  # how a level reads as a driver / coefficient label

    def __post_init__(self):
        if self.reference_level not in self.levels:
            raise ValueError(f"{self.name}: reference level {self.reference_level!r} is not one of {self.levels}")
        self._ref = self.levels.index(self.reference_level)
        self._kept = [i for i in range(len(self.levels)) if i != self._ref]

    @property
    def columns(self):
        return tuple(f"{self.name}[{self.levels[i]}]" for i in self._kept)

    @property
    def labels(self):
        return tuple(self.label_format.format(level=self.levels[i]) for i in self._kept)

    def _codes(self, data):
        return data.cached(("codes", self.name), lambda: np.asarray(self.codes(data), dtype=np.int16))

    def design(self, data, rows=None):
        c = self._codes(data)
        c = c if rows is None else c[rows]
        return (c[:, None] == np.asarray(self._kept)[None, :]).astype(np.float64)

    def linear(self, data, beta):
        full = np.zeros(len(self.levels), dtype=np.float64)
        full[self._kept] = beta
        return full[self._codes(data)]

    def present(self, data):
        return self._codes(data) != self._ref

    def describe(self, data, rows):
        names = np.array([self.label_format.format(level=v) for v in self.levels], dtype=object)
        return names[self._codes(data)[rows]]

    def reference(self):
        return "vs " + self.label_format.format(level=self.reference_level)


@dataclass
class RenamedFactorTerm(FactorTerm):
    """A factor whose level codes differ from their readable names (sex "M" reads "male")."""

    names: dict = field(default_factory=dict)

    @property
    def labels(self):
        return tuple(self.names[self.levels[i]] for i in self._kept)

    def describe(self, data, rows):
        readable = np.array([self.names[v] for v in self.levels], dtype=object)
        return readable[self._codes(data)[rows]]

    def reference(self):
        return "vs " + self.names[self.reference_level]


@dataclass
class NumericTerm(Term):
    """A numeric covariate (e.g. a count capped at ``cap``, age per 10 years): one column."""

    value: Callable[[Data], np.ndarray] | None = None
    label: str = ""
    describe_value: Callable[[np.ndarray], np.ndarray] | None = None
    unit: str = ""

    @property
    def columns(self):
        return (self.name,)

    @property
    def labels(self):
        return (self.label,)

    def _x(self, data):
        return data.cached(("value", self.name), lambda: np.asarray(self.value(data), dtype=np.float64))

    def design(self, data, rows=None):
        x = self._x(data)
        return (x if rows is None else x[rows])[:, None]

    def linear(self, data, beta):
        return beta[0] * self._x(data)

    def present(self, data):
        return self._x(data) != 0

    def describe(self, data, rows):
        return self.describe_value(self._x(data)[rows])

    def reference(self):
        return self.unit


# ----------------------------------------------------------------------------------------------- constructors


def _band_labels(lower: Sequence[int]) -> tuple[str, ...]:
    labels = [f"{a}-{b - 1}" for a, b in itertools.pairwise(lower)]
    return (*labels, f"{lower[-1]}+")


def age_bands(lower: Sequence[int] = (0, 5, 18, 40, 50, 60, 70, 80, 85), reference: str = "40-49") -> FactorTerm:
    """Age in bands given by their lower bounds (labels "0-17" ... "85+"); driver label "age 85+"."""
    lower = tuple(int(a) for a in lower)
    if lower[0] != 0 or any(b <= a for a, b in itertools.pairwise(lower)):
        raise ValueError("age_bands: lower bounds must start at 0 and increase")
    edges = np.asarray(lower[1:])
    return FactorTerm(
        name="age", needs=("age",), levels=_band_labels(lower), reference_level=reference,
        codes=lambda d: np.searchsorted(edges, d.age(), side="right"), label_format="age {level}",
    )


def age_linear(per: float = 10, centre: float = 50) -> NumericTerm:
    """Age as a straight line on the logit scale: (age - centre) / per."""
    return NumericTerm(
        name=f"age_per_{per:g}y", needs=("age",), value=lambda d: (d.age() - centre) / per,
        label=f"age (per {per:g} years, centred at {centre:g})",
        describe_value=lambda v: np.array([f"age {v_ * per + centre:.0f}" for v_ in v], dtype=object),
        unit=f"per {per:g} years",
    )


def age_under(years: int = 5) -> DerivedFlagTerm:
    """Aged under ``years`` (e.g. the high admission rate of young children)."""
    return DerivedFlagTerm(name=f"age_under{years}", needs=("age",), label=f"age under {years}",
                           flag_of=lambda d: d.age() < years)


def male() -> DerivedFlagTerm:
    """Male (sex "M") vs female or unknown, as one flag."""
    return DerivedFlagTerm(name="male", needs=("sex",), label="male",
                           flag_of=lambda d: (d.extract["sex"] == "M").to_numpy(dtype=bool, na_value=False))


def sex(reference: str = "F") -> RenamedFactorTerm:
    """Sex F / M / U (a level absent from the training rows is dropped by the fit)."""
    levels = ("F", "M", "U")

    def codes(d):
        s = d.extract["sex"]
        c = np.full(len(s), -1, dtype=np.int16)
        for i, v in enumerate(levels):
            c[(s == v).to_numpy(dtype=bool, na_value=False)] = i
        if (c < 0).any():
            raise InputError(EXTRACT, "sex must be F, M or U", "sex", first_rows(pd.Series(c < 0, index=s.index)))
        return c

    return RenamedFactorTerm(name="sex", needs=("sex",), levels=levels, reference_level=reference, codes=codes,
                             names={"F": "female", "M": "male", "U": "sex unknown"})


def condition(column: str, label: str | None = None) -> FlagTerm:
    """A condition or status flag of the extract (``ltc_heart_failure`` reads "heart failure")."""
    return FlagTerm(name=column, needs=(column,), column=column, label=label or CONDITION_LABELS.get(column, column))


def conditions(columns: Sequence[str] = LTC_COLUMNS) -> list[FlagTerm]:
    """One flag term per condition column."""
    return [condition(c) for c in columns]


def status(column: str) -> FlagTerm:
    """A status flag (``care_home``, ``housebound``, ``palliative``, ``pregnant``)."""
    return condition(column)


_FRAILTY_LEVELS = ("fit or under 65", "mild", "moderate", "severe")


def frailty(reference: str = "fit or under 65") -> FactorTerm:
    """eFI category (Clegg 2016) at 65+: mild / moderate / severe frailty vs fit or under 65."""
    cuts = np.asarray((5, 9, 14))
    return RenamedFactorTerm(
        name="frailty", needs=("age", *EFI_COLUMNS), levels=_FRAILTY_LEVELS, reference_level=reference,
        codes=lambda d: np.where(d.efi_deficits() >= 0, np.searchsorted(cuts, d.efi_deficits(), side="right"), 0),
        names={"fit or under 65": "fit or under 65", "mild": "mild frailty", "moderate": "moderate frailty",
               "severe": "severe frailty"},
    )


def cambridge(per: float = 1.0) -> NumericTerm:
    """Cambridge Multimorbidity Score (Payne 2020, general weights) per ``per`` points. Not estimable beside
    every one of its 20 conditions (it is nearly their weighted sum): use it instead of condition terms."""
    return NumericTerm(
        name="cambridge_score", needs=tuple(c for f in CAMBRIDGE_CONDITIONS["flags"] for c in f.split(" or ")),
        value=lambda d: d.cambridge() / per,
        label=f"Cambridge multimorbidity score (per {per:g} point{'s' if per != 1 else ''})",
        describe_value=lambda v: np.array([f"multimorbidity score {x * per:.1f}" for x in v], dtype=object),
        unit=f"per {per:g} point",
    )


def ltc_count_bands(lower: Sequence[int] = (0, 2, 4, 6), columns: Sequence[str] = LTC_COLUMNS,
                    reference: str | None = None) -> FactorTerm:
    """Number of long-term conditions in bands (default 0-1, 2-3, 4-5, 6+): multimorbidity beyond the sum of
    single-condition effects (estimable beside the condition terms because the bands are not linear in them)."""
    lower = tuple(int(a) for a in lower)
    edges = np.asarray(lower[1:])
    levels = _band_labels(lower)
    cols = tuple(columns)
    return FactorTerm(
        name="n_conditions", needs=cols, levels=levels, reference_level=reference or levels[0],
        codes=lambda d: np.searchsorted(edges, sum(d.flag(c).astype(np.int16) for c in cols), side="right"),
        label_format="{level} long-term conditions",
    )


def _count_words(singular: str, plural: str, cap: int | None):
    def words(values: np.ndarray) -> np.ndarray:
        out = np.empty(len(values), dtype=object)
        for v in np.unique(values):
            n = int(np.rint(v))
            text = f"{n}+ {plural}" if cap is not None and n >= cap else f"{n} {singular if n == 1 else plural}"
            out[values == v] = text
        return out
    return words


def activity(column: str, cap: int | None = 5, singular: str | None = None, plural: str | None = None,
             transform: str = "linear") -> NumericTerm:
    """A count of activity in the last 12 months, capped at ``cap`` (``min(count, cap)``), per event; or
    ``transform="log1p"`` (log(1 + count)). Driver label e.g. "3 emergency admissions" ("5+ ..." at the cap)."""
    default_words = {
        "emergency_admissions": ("emergency admission", "emergency admissions"),
        "ae_attendances": ("A&E attendance", "A&E attendances"),
        "gp_contacts": ("GP contact", "GP contacts"),
        "outpatient_attendances": ("outpatient attendance", "outpatient attendances"),
        "referrals": ("referral", "referrals"),
        "n_medications": ("medication", "medications"),
    }
    one, many = default_words.get(column, (column, column))
    one, many = singular or one, plural or many
    if transform not in ("linear", "log1p"):
        raise ValueError("activity: transform must be 'linear' or 'log1p'")

    def value(d):
        x = d.count(column).astype(np.float64)
        if cap is not None:
            x = np.minimum(x, cap)
        return np.log1p(x) if transform == "log1p" else x

    capped = f", up to {cap}" if cap is not None else ""
    words = _count_words(one, many, cap)
    unit = f"per {one}" if transform == "linear" else f"per unit of log(1 + {many})"
    return NumericTerm(
        name=column, needs=(column,), value=value,
        label=f"{many}, last 12 months ({'each' if transform == 'linear' else 'log(1 + n)'}{capped})",
        describe_value=(lambda v: words(v)) if transform == "linear" else (lambda v: words(np.expm1(v))),
        unit=unit,
    )


def deprivation_score() -> NumericTerm:
    """Deprivation on a 0-1 scale, (10 - IMD decile) / 9 (0 = least deprived national decile, 1 = most), per
    unit. Unknown LSOAs score 0: add :func:`deprivation_unknown` when some patients have none."""
    return NumericTerm(
        name="deprivation", needs=(), value=lambda d: np.nan_to_num((10 - d.imd_deciles()) / 9.0, nan=0.0),
        label="deprivation ((10 - IMD decile) / 9, most vs least deprived decile)",
        describe_value=lambda v: np.array([f"IMD decile {10 - 9 * x:.0f}" for x in v], dtype=object),
        unit="most vs least deprived decile",
    )


def deprivation_unknown() -> DerivedFlagTerm:
    """No IMD decile for the patient's LSOA (missing or not in the IoD table)."""
    return DerivedFlagTerm(name="deprivation_unknown", needs=(), label="deprivation unknown",
                           flag_of=lambda d: np.isnan(d.imd_deciles()))


def deprivation(reference: str = "5 (least deprived)") -> RenamedFactorTerm:
    """IMD 2019 quintile of the LSOA of residence (1 = most deprived), with an "unknown" level."""
    names = {q: f"IMD quintile {q}" for q in IMD_QUINTILES}
    names["unknown"] = "IMD quintile unknown"
    return RenamedFactorTerm(name="imd_quintile", needs=(), levels=IMD_QUINTILES, reference_level=reference,
                          codes=lambda d: d.imd_codes(), names=names)


def check_needs(extract: pd.DataFrame, terms: Sequence[Term], where: str) -> None:
    """Every contract column the terms read must be present."""
    needs = list(dict.fromkeys(c for t in terms for c in t.needs))
    require_columns(extract, needs, where)
