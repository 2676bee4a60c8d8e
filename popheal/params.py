"""Load and validate an area YAML (params/<area>.yaml) into typed objects, before any kernel starts.

Every rejection names the key and the file: unknown keys, wrong types, duplicate codes, PCN list sizes that
do not match their practices, unsafe codes or names, and ``--pcn`` codes that are not in the file. Values from
the YAML are data only: they are never executed and never become a path except through a validated code or
slug, so an output path cannot escape its folder.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from popheal import paths
from popheal.io.errors import InputError

__all__ = [
    "DATA_KEYS",
    "PCN",
    "Area",
    "AreaParams",
    "DataFiles",
    "Disclosure",
    "Period",
    "Practice",
    "RiskSettings",
    "load",
]

CODE_RE = re.compile(r"^[A-Z0-9]{3,12}$")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,40}$")
AREA_CODE_RE = re.compile(r"^[EWSN][0-9]{8}$")
UNSAFE_NAME_RE = re.compile(r"[\x00-\x1f\x7f]")

#: Input files an area names under ``data:`` (paths relative to ``data.folder``). Optional ones may be omitted.
DATA_KEYS: dict[str, bool] = {
    "registrations": True,  # NHS Digital registered patients by practice, sex and 5-year band
    "practice_map": True,  # NHS Digital practice -> PCN map
    "lsoa_population": True,  # ONS LSOA mid-year estimates, single year of age
    "imd": True,  # IoD2019 File 1
    "boundaries": True,  # LSOA polygons (GeoJSON / GeoPackage / shapefile)
    "projection": True,  # ONS SNPP layout
    "life_table": True,  # ONS national life table (long CSV or the published xlsx)
    "fertility": False,  # age-specific fertility rates
    "migration": False,  # net migration by sex and age
    "patients": True,  # patient-level extract (popheal contract)
    "referrals": True,  # referral extract (popheal contract)
    "practice_locations": False,  # practice sites with latitude/longitude
    "mid_year_estimates": False,  # ONS LA mid-year estimates (list-inflation correction)
    "pcn_activity": False,  # a folder of published PCN-level activity (popheal.io.read_pcn_activity layout)
}


@dataclass(frozen=True)
class Practice:
    code: str
    name: str
    list_size: int | None = None


@dataclass(frozen=True)
class PCN:
    code: str
    name: str
    practices: tuple[Practice, ...]
    list_size: int | None = None

    @property
    def practice_codes(self) -> tuple[str, ...]:
        return tuple(p.code for p in self.practices)


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    slug: str
    synthetic: bool = False


@dataclass(frozen=True)
class Period:
    label: str
    start: dt.date
    end: dt.date
    base_year: int
    projection_end_year: int = 2041


@dataclass(frozen=True)
class Disclosure:
    threshold: int = 7
    base: int = 5


@dataclass(frozen=True)
class RiskSettings:
    tier_cuts: tuple[float, ...] = (0.005, 0.05, 0.20)
    high_intensity_ae: int = 5


@dataclass(frozen=True)
class DataFiles:
    folder: Path
    files: dict[str, str]

    def path(self, key: str) -> Path | None:
        """Absolute path of input ``key`` (None when an optional input is not configured)."""
        if key not in DATA_KEYS:
            raise KeyError(f"unknown data key {key!r}; known: {', '.join(DATA_KEYS)}")
        name = self.files.get(key)
        return None if name is None else self.folder / name


@dataclass(frozen=True)
class AreaParams:
    source: Path
    area: Area
    period: Period
    seed: int
    disclosure: Disclosure
    risk: RiskSettings
    data: DataFiles
    pcns: tuple[PCN, ...]
    raw: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def practices(self) -> tuple[Practice, ...]:
        return tuple(p for pcn in self.pcns for p in pcn.practices)

    def pcn(self, code: str) -> PCN:
        for pcn in self.pcns:
            if pcn.code == code:
                return pcn
        raise InputError(self.source, f"PCN code {code!r} is not in this area (known: "
                         f"{', '.join(p.code for p in self.pcns)})", column="pcns")

    def select(self, codes: list[str] | tuple[str, ...] | None) -> tuple[PCN, ...]:
        """The PCNs named by ``--pcn`` (all when none given); unknown codes are an error naming the file."""
        if not codes:
            return self.pcns
        unknown = [c for c in codes if c not in {p.code for p in self.pcns}]
        if unknown:
            raise InputError(self.source, f"--pcn {', '.join(unknown)} not found under 'pcns' (known: "
                             f"{', '.join(p.code for p in self.pcns)})", column="pcns")
        return tuple(p for p in self.pcns if p.code in set(codes))

    def practice_to_pcn(self) -> dict[str, str]:
        return {pr.code: pcn.code for pcn in self.pcns for pr in pcn.practices}

    @property
    def area_relpath(self) -> str:
        """The YAML path relative to the project root (what notebooks receive as ``area``)."""
        return paths.relative_to_root(self.source)


# --------------------------------------------------------------------------------------------- validation
class _Reader:
    """Walks the YAML mapping, checking keys and types, and raising InputError naming key and file."""

    def __init__(self, source: Path):
        self.source = source

    def fail(self, key: str, rule: str):
        raise InputError(self.source, rule, column=key)

    def mapping(self, value: Any, key: str, allowed: dict[str, bool]) -> dict:
        if not isinstance(value, dict):
            self.fail(key, f"must be a mapping of keys, got {type(value).__name__}")
        unknown = [k for k in value if k not in allowed]
        if unknown:
            self.fail(key, f"unknown key(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(allowed)}")
        missing = [k for k, required in allowed.items() if required and k not in value]
        if missing:
            self.fail(key, f"missing required key(s) {', '.join(map(repr, missing))}")
        return value

    def typed(self, value: Any, key: str, kind: type | tuple[type, ...], what: str):
        if isinstance(value, bool) and kind is not bool and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            self.fail(key, f"must be {what}, got a boolean")
        if not isinstance(value, kind):
            self.fail(key, f"must be {what}, got {type(value).__name__} {value!r}")
        return value

    def text(self, value: Any, key: str) -> str:
        self.typed(value, key, str, "text")
        if not value.strip() or UNSAFE_NAME_RE.search(value):
            self.fail(key, "must be non-empty text on one line (no newlines or control characters)")
        return value

    def code(self, value: Any, key: str, pattern: re.Pattern = CODE_RE, what: str = "3-12 capital letters/digits") -> str:
        self.typed(value, key, str, "a code in quotes")
        if not pattern.fullmatch(value):
            self.fail(key, f"{value!r} is not a valid code ({what}; no spaces, quotes or path separators)")
        return value

    def integer(self, value: Any, key: str, minimum: int | None = None) -> int:
        self.typed(value, key, int, "a whole number")
        if minimum is not None and value < minimum:
            self.fail(key, f"must be at least {minimum}, got {value}")
        return value

    def date(self, value: Any, key: str) -> dt.date:
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        self.fail(key, f"must be a date written YYYY-MM-DD, got {value!r}")


_TOP = {"area": True, "period": True, "seed": True, "disclosure": False, "risk": False, "data": True, "pcns": True}
_AREA = {"code": True, "name": True, "slug": True, "synthetic": False}
_PERIOD = {"label": True, "start": True, "end": True, "base_year": True, "projection_end_year": False}
_DISCLOSURE = {"threshold": False, "base": False}
_RISK = {"tier_cuts": False, "high_intensity_ae": False}
_PCN = {"code": True, "name": True, "list_size": False, "practices": True}
_PRACTICE = {"code": True, "name": True, "list_size": False}


def load(path: str | Path) -> AreaParams:
    """Read and validate an area YAML (a path relative to the project root, or absolute)."""
    source = paths.resolve(path)
    if not source.is_file():
        raise InputError(source, "area parameters file not found")
    try:
        # safe_load builds plain data only: no YAML tag can construct or run Python objects.
        doc = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputError(source, f"not valid YAML: {exc}") from None
    r = _Reader(source)
    doc = r.mapping(doc if doc is not None else {}, "(top level)", _TOP)

    a = r.mapping(doc["area"], "area", _AREA)
    area = Area(
        code=r.code(a["code"], "area.code", AREA_CODE_RE, "an ONS code such as E08000031"),
        name=r.text(a["name"], "area.name"),
        slug=r.code(a["slug"], "area.slug", SLUG_RE, "lower-case letters, digits, '-' or '_'"),
        synthetic=r.typed(a.get("synthetic", False), "area.synthetic", bool, "true or false"),
    )

    p = r.mapping(doc["period"], "period", _PERIOD)
    period = Period(
        label=r.code(str(p["label"]), "period.label", re.compile(r"^[0-9A-Za-z_-]{1,20}$"),
                     "letters, digits, '-' or '_' (e.g. 2019-20)"),
        start=r.date(p["start"], "period.start"),
        end=r.date(p["end"], "period.end"),
        base_year=r.integer(p["base_year"], "period.base_year", 1990),
        projection_end_year=r.integer(p.get("projection_end_year", 2041), "period.projection_end_year", 1990),
    )
    if period.end <= period.start:
        r.fail("period.end", "must be after period.start")
    if period.projection_end_year <= period.base_year:
        r.fail("period.projection_end_year", "must be after period.base_year")

    seed = r.integer(doc["seed"], "seed", 0)

    d = r.mapping(doc.get("disclosure") or {}, "disclosure", _DISCLOSURE)
    disclosure = Disclosure(
        threshold=r.integer(d.get("threshold", 7), "disclosure.threshold", 1),
        base=r.integer(d.get("base", 5), "disclosure.base", 1),
    )

    k = r.mapping(doc.get("risk") or {}, "risk", _RISK)
    cuts = k.get("tier_cuts", [0.005, 0.05, 0.20])
    r.typed(cuts, "risk.tier_cuts", list, "a list of fractions such as [0.005, 0.05, 0.20]")
    for i, c in enumerate(cuts):
        r.typed(c, f"risk.tier_cuts[{i}]", (int, float), "a fraction between 0 and 1")
        if not 0 < c < 1:
            r.fail(f"risk.tier_cuts[{i}]", f"must lie between 0 and 1, got {c}")
    if list(cuts) != sorted(set(cuts)):
        r.fail("risk.tier_cuts", "must be strictly increasing")
    risk = RiskSettings(tuple(float(c) for c in cuts),
                        r.integer(k.get("high_intensity_ae", 5), "risk.high_intensity_ae", 1))

    data_allowed = {"folder": True, **{key: req for key, req in DATA_KEYS.items()}}
    dd = r.mapping(doc["data"], "data", data_allowed)
    folder_text = r.text(dd["folder"], "data.folder")
    files = {}
    for key in DATA_KEYS:
        if key in dd and dd[key] is not None:
            files[key] = r.text(dd[key], f"data.{key}")
    data = DataFiles(folder=paths.resolve(folder_text), files=files)

    r.typed(doc["pcns"], "pcns", list, "a list of PCNs")
    if not doc["pcns"]:
        r.fail("pcns", "must list at least one PCN")
    pcns: list[PCN] = []
    seen: dict[str, str] = {}

    def claim(code: str, key: str):
        if code in seen:
            r.fail(key, f"duplicate code {code!r} (also at {seen[code]})")
        seen[code] = key

    for i, item in enumerate(doc["pcns"]):
        where = f"pcns[{i}]"
        m = r.mapping(item, where, _PCN)
        code = r.code(m["code"], f"{where}.code")
        claim(code, f"{where}.code")
        name = r.text(m["name"], f"{where}.name")
        size = r.integer(m["list_size"], f"{where}.list_size", 0) if m.get("list_size") is not None else None
        r.typed(m["practices"], f"{where}.practices", list, "a list of practices")
        if not m["practices"]:
            r.fail(f"{where}.practices", "must list at least one practice")
        practices = []
        for j, pr in enumerate(m["practices"]):
            pw = f"{where}.practices[{j}]"
            pm = r.mapping(pr, pw, _PRACTICE)
            pcode = r.code(pm["code"], f"{pw}.code")
            claim(pcode, f"{pw}.code")
            psize = r.integer(pm["list_size"], f"{pw}.list_size", 0) if pm.get("list_size") is not None else None
            practices.append(Practice(pcode, r.text(pm["name"], f"{pw}.name"), psize))
        sizes = [pr.list_size for pr in practices]
        if size is not None and all(s is not None for s in sizes) and sum(sizes) != size:
            r.fail(f"{where}.list_size", f"is {size:,} but its practices' list sizes sum to {sum(sizes):,}")
        if size is None and any(s is not None for s in sizes) and not all(s is not None for s in sizes):
            r.fail(f"{where}.practices", "give list_size for every practice or for none")
        if size is None and all(s is not None for s in sizes):
            size = sum(sizes)
        pcns.append(PCN(code, name, tuple(practices), size))

    if area.synthetic:
        missing = [p.code for p in pcns if p.list_size is None]
        if missing:
            r.fail("pcns", f"a synthetic area needs list_size for every PCN (missing: {', '.join(missing)})")

    return AreaParams(source, area, period, seed, disclosure, risk, data, tuple(pcns), raw=doc)
