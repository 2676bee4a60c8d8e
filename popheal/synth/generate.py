"""Write the synthetic area's files in the published layouts (data/raw/README.md), atomically."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from popheal import paths
from popheal.io.errors import InputError
from popheal.synth import model as M
from popheal.synth._util import apportion
from popheal.synth.area import (
    PATIENTS_PER_PRACTICE_DEFAULT,
    AreaSpec,
    PCNSpec,
    Structure,
    build_structure,
    lsoa_polygons_lonlat,
    practice_table,
    to_lonlat,
)
from popheal.synth.demography import fertility_rates, life_table, net_migration, project, residents
from popheal.synth.people import simulate_patients
from popheal.synth.referrals import practice_truth as _practice_truth
from popheal.synth.referrals import referral_multipliers, simulate_referrals

__all__ = [
    "SyntheticArea",
    "generate",
    "patients",
    "practice_truth",
    "spec_from_params",
    "split_practice_lists",
    "synthetic_area",
]

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
#: Synthetic organisation codes that look it (DESIGN.md "demo codes"): a CCG, STP and region for the map.
SYNTHETIC_CCG = {"CCG_CODE": "DEM", "ONS_CCG_CODE": "E38099001"}
SYNTHETIC_STP = {"ONS_STP_CODE": "E54099001", "STP_CODE": "QDM",
                 "STP_NAME": "Synthetic Integrated Care System"}
REGION = {"ONS_COMM_REGION_CODE": "E40000008", "COMM_REGION_CODE": "Y60", "COMM_REGION_NAME": "Midlands"}
GENERATOR_VERSION = "1"


@dataclass
class SyntheticArea:
    """An in-memory synthetic area: its structure, the patient extract and the hidden truth."""

    structure: Structure
    patients: pd.DataFrame
    truth: dict

    @property
    def practices(self) -> pd.DataFrame:
        return self.structure.practices

    @property
    def lsoas(self) -> pd.DataFrame:
        """``lsoa11, lsoa_name, imd_rank, imd_decile`` (+ internal columns) of the area's LSOAs."""
        return self.structure.lsoas

    def practice_truth(self) -> pd.DataFrame:
        """Per practice: the true referral effects (planted outliers, random effect, deprivation effect)."""
        return _practice_truth(self.structure)

    def referrals(self, start: dt.date, end: dt.date) -> pd.DataFrame:
        return simulate_referrals(self.structure, start, end)


# ----------------------------------------------------------------------------------------------- specs
def spec_from_params(params) -> AreaSpec:
    """The generator's view of an AreaParams (PCN totals; practice list sizes when the YAML gives them)."""
    pcns = []
    for pcn in params.pcns:
        if pcn.list_size is None:
            raise InputError(params.source, f"PCN {pcn.code} needs a list_size to be generated",
                             column="pcns")
        pcns.append(PCNSpec(pcn.code, pcn.name, int(pcn.list_size),
                            tuple((p.code, p.name, p.list_size) for p in pcn.practices)))
    return AreaSpec(params.area.code, params.area.name, params.area.slug, int(params.seed), tuple(pcns))


def _load(params):
    from popheal import params as params_mod

    if isinstance(params, (str, os.PathLike)):
        return params_mod.load(params)
    return params


def split_practice_lists(params) -> dict[str, int]:
    """Practice list sizes the generator uses: each PCN's total split deterministically (or the YAML's)."""
    table = practice_table(spec_from_params(_load(params)))
    return dict(zip(table["practice_code"], table["list_size"].astype(int).tolist(), strict=True))


def _default_spec(n: int, seed: int, practices) -> AreaSpec:
    if practices is None:
        k = int(np.clip(round(n / PATIENTS_PER_PRACTICE_DEFAULT), 1, 500))
        practices = [f"DEM{i:03d}" for i in range(1, k + 1)]
    elif isinstance(practices, (int, np.integer)):
        practices = [f"DEM{i:03d}" for i in range(1, int(practices) + 1)]
    if isinstance(practices, dict):
        codes = list(practices)
        sizes = [int(s) for s in apportion(n, list(practices.values()))]
        members = tuple((c, f"Synthetic practice {c}", s) for c, s in zip(codes, sizes, strict=True))
    else:
        codes = [str(c) for c in practices]
        if not codes:
            raise ValueError("practices must name at least one practice")
        members = tuple((c, f"Synthetic practice {c}", None) for c in codes)
    pcn = PCNSpec("DEMPCN1", "Synthetic PCN", int(n), members)
    return AreaSpec("E08000031", "Synthetic", "synthetic", int(seed), (pcn,))


def synthetic_area(source=None, seed: int = 0, practices=None, n: int | None = None) -> SyntheticArea:
    """Build an area in memory: from area parameters (AreaParams or a YAML path; their own seed), or ``n``
    patients (``seed``, ``practices`` as in :func:`patients`). :func:`generate` writes the same area."""
    if source is not None and not isinstance(source, (int, np.integer)):
        spec = spec_from_params(_load(source))
    else:
        n = int(source if source is not None else n)
        if n < 0:
            raise ValueError("n must be >= 0")
        spec = _default_spec(n, seed, practices)
    st = build_structure(spec)
    extract, truth = simulate_patients(st, referral_multipliers(st))
    return SyntheticArea(st, extract, truth)


def practice_truth(area) -> pd.DataFrame:
    """The true practice effects of an area (a SyntheticArea, or area parameters / a YAML path): one row per
    practice with ``practice_code, pcn_code, list_size, mean_deprivation, core20_share, position,
    random_effect, planted_multiplier, deprivation_effect, referral_effect, planted_specialty,
    advice_and_guidance_log_odds, out_of_area_share``."""
    if isinstance(area, SyntheticArea):
        return _practice_truth(area.structure)
    if isinstance(area, Structure):
        return _practice_truth(area)
    return _practice_truth(build_structure(spec_from_params(_load(area))))


def patients(n: int, seed: int = 0, practices=None) -> pd.DataFrame:
    """An ``n``-row synthetic patient extract with every contract column (popheal/io/extract_schema.py).

    ``practices``: None (about one practice per 6,500 patients, codes DEM001..), a number of practices, a list
    of practice codes, or a mapping code -> relative list size. Deterministic for a given ``seed``.
    """
    return synthetic_area(int(n), seed=seed, practices=practices).patients


# --------------------------------------------------------------------------------------------- layouts
def _nhs_date(d: dt.date, upper: bool = True) -> str:
    mon = _MONTHS[d.month - 1]
    return f"{d.day:02d}{mon if upper else mon.title()}{d.year}"


def registrations_table(area: SyntheticArea, extract_date: dt.date) -> pd.DataFrame:
    """NHS Digital gp-reg-pat-prac-quin-age layout (ALL/ALL total row, then FEMALE and MALE 5-year bands)."""
    st = area.structure
    pr = st.practices
    counts = st.counts  # (practices, 2, ages)
    n_age = counts.shape[2]
    ages = np.arange(n_age)
    band = np.minimum(ages // 5, 19)  # 0_4 .. 90_94, 95+
    labels = [f"{5 * b}_{5 * b + 4}" for b in range(19)] + ["95+"]
    banded = np.zeros((len(pr), 2, 20), dtype=np.int64)
    np.add.at(banded, (slice(None), slice(None), band), counts)
    rows = []
    post = pr["postcode"].to_numpy()
    for p, code in enumerate(pr["practice_code"]):
        head = ("GP_PRAC_PAT_LIST", _nhs_date(extract_date), "GP", SYNTHETIC_CCG["CCG_CODE"],
                SYNTHETIC_CCG["ONS_CCG_CODE"], code, post[p])
        rows.append((*head, "ALL", "ALL", int(banded[p].sum())))
        for s, sex in enumerate(("FEMALE", "MALE")):
            rows.extend((*head, sex, labels[b], int(banded[p, s, b])) for b in range(20))
    return pd.DataFrame(rows, columns=["PUBLICATION", "EXTRACT_DATE", "TYPE", "CCG_CODE", "ONS_CCG_CODE",
                                       "ORG_CODE", "POSTCODE", "SEX", "AGE_GROUP_5", "NUMBER_OF_PATIENTS"])


def practice_map_table(area: SyntheticArea, extract_date: dt.date, area_name: str) -> pd.DataFrame:
    pr = area.structure.practices
    return pd.DataFrame({
        "PUBLICATION": "GP_PRAC_PAT_LIST",
        "EXTRACT_DATE": _nhs_date(extract_date, upper=False),
        "PRACTICE_CODE": pr["practice_code"],
        "PRACTICE_NAME": pr["practice_name"],
        "PRACTICE_POSTCODE": pr["postcode"],
        "PCN_CODE": pr["pcn_code"],
        "PCN_NAME": pr["pcn_name"],
        "ONS_CCG_CODE": SYNTHETIC_CCG["ONS_CCG_CODE"],
        "CCG_CODE": SYNTHETIC_CCG["CCG_CODE"],
        "CCG_NAME": f"NHS {area_name} CCG (synthetic)",
        **SYNTHETIC_STP,
        **REGION,
    })


def lsoa_population_table(area: SyntheticArea, res: np.ndarray) -> pd.DataFrame:
    """ONS SAPE layout: lsoa11_name, lsoa11_code, total_population, 0 .. 89, 90+ (persons, residents)."""
    persons = res.sum(axis=1)  # (lsoa, ages)
    wide = np.concatenate([persons[:, :90], persons[:, 90:].sum(axis=1, keepdims=True)], axis=1)
    lsoas = area.structure.lsoas
    out = pd.DataFrame({"lsoa11_name": lsoas["lsoa_name"].to_numpy(),
                        "lsoa11_code": lsoas["lsoa11"].to_numpy(),
                        "total_population": wide.sum(axis=1)})
    ages = pd.DataFrame(wide, columns=[str(a) for a in range(90)] + ["90+"])
    return pd.concat([out, ages], axis=1)


def mid_year_estimates_table(res: np.ndarray, area_code: str, area_name: str) -> pd.DataFrame:
    """ONS MYE2 layout for the local authority (persons): ltla19_code, ltla19_name, total_population,
    0 .. 89, 90+ (the residents of all the area's LSOAs)."""
    persons = res.sum(axis=(0, 1))
    wide = np.concatenate([persons[:90], [persons[90:].sum()]])
    row = {"ltla19_code": area_code, "ltla19_name": area_name, "total_population": int(wide.sum())}
    row.update({str(a): int(v) for a, v in zip([*range(90)], wide[:90], strict=True)})
    row["90+"] = int(wide[90])
    return pd.DataFrame([row])


def imd_table(area: SyntheticArea, area_code: str, area_name: str) -> pd.DataFrame:
    """IoD2019 File 1 layout; ranks written with thousands separators as published ("29,199")."""
    lsoas = area.structure.lsoas
    return pd.DataFrame({
        "LSOA code (2011)": lsoas["lsoa11"].to_numpy(),
        "LSOA name (2011)": lsoas["lsoa_name"].to_numpy(),
        "Local Authority District code (2019)": area_code,
        "Local Authority District name (2019)": area_name,
        "Index of Multiple Deprivation (IMD) Rank": [f"{r:,}" for r in lsoas["imd_rank"]],
        "Index of Multiple Deprivation (IMD) Decile": lsoas["imd_decile"].to_numpy(),
    })


def boundaries_geojson(area: SyntheticArea) -> str:
    """GeoJSON FeatureCollection (WGS84, as the ONS download) with lsoa11cd and lsoa11nm."""
    lsoas = area.structure.lsoas
    rings = lsoa_polygons_lonlat(area.structure)
    features = [
        {"type": "Feature",
         "properties": {"lsoa11cd": code, "lsoa11nm": name},
         "geometry": {"type": "Polygon", "coordinates": [ring]}}
        for code, name, ring in zip(lsoas["lsoa11"], lsoas["lsoa_name"], rings, strict=True)
    ]
    doc = {"type": "FeatureCollection", "name": "lsoa2011_boundaries_synthetic",
           "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
           "features": features}
    return json.dumps(doc, separators=(",", ":"))


def practice_locations_table(area: SyntheticArea, area_name: str) -> pd.DataFrame:
    """NHS Choices GP file layout (shapefile field names, as in the real Black Country extract)."""
    pr = area.structure.practices
    lon, lat = to_lonlat(pr["x"].to_numpy(), pr["y"].to_numpy())
    n = len(pr)
    return pd.DataFrame({
        "Organisati": np.arange(90001, 90001 + n), "Organisa_1": pr["practice_code"], "Organisa_2": "GP",
        "SubType": "UNKNOWN", "Organisa_3": "Visible", "IsPimsMana": True, "isEPSEnabl": True,
        "Organisa_4": pr["practice_name"], "Address1": [f"{i + 1} Synthetic Road" for i in range(n)],
        "Address2": "", "Address3": "", "City": area_name, "County": "West Midlands",
        "Postcode": pr["postcode"],
        "Latitude": np.round(lat, 6), "Longitude": np.round(lon, 6), "ParentODSC": SYNTHETIC_CCG["CCG_CODE"],
        "ParentName": f"NHS {area_name} CCG (synthetic)", "Phone": "", "Email": "", "Website": "", "Fax": "",
        "field_23": "",
    })


def snpp_csv(projection: pd.DataFrame, area_code: str, area_name: str) -> str:
    """ONS SNPP CSV layout: quoted header, female then male rows, ages 0..89, "90 and over", "All ages"."""
    years = sorted(projection["year"].unique())
    wide = projection.pivot_table(index=["sex", "age"], columns="year", values="population", aggfunc="sum")
    lines = [",".join(f'"{h}"' for h in ["AREA_CODE", "AREA_NAME", "COMPONENT", "SEX", "AGE_GROUP",
                                          *map(str, years)])]
    for sex, label in (("F", "female"), ("M", "male")):
        block = wide.loc[sex].reindex(range(91)).fillna(0.0)
        for age in range(91):
            age_label = str(age) if age < 90 else "90 and over"
            vals = ",".join(f"{v:.3f}" for v in block.loc[age].to_numpy())
            lines.append(f"{area_code},{area_name},Population,{label},{age_label},{vals}")
        totals = ",".join(f"{v:.3f}" for v in np.round(block.to_numpy(), 3).sum(axis=0))
        lines.append(f"{area_code},{area_name},Population,{label},All ages,{totals}")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------- writing
def _csv_text(df: pd.DataFrame) -> str:
    return df.to_csv(index=False, lineterminator="\n")


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)


def _write_table(path: Path, df: pd.DataFrame) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".parquet":
        df.to_parquet(path, index=False)
    elif len(df) >= 10_000 and _arrow_csv(path, df):
        return
    else:
        df.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


def _arrow_csv(path: Path, df: pd.DataFrame) -> bool:
    """Write a large table as CSV with pyarrow (several times faster than pandas for the extracts), rendering
    values as pandas would (True/False, empty for missing, ISO dates). False when a text value would need
    quoting (then pandas writes it)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    bools = pa.array(["False", "True"])
    arrays = []
    for name in df.columns:
        col = df[name]
        if col.dtype == bool:
            arrays.append(pa.DictionaryArray.from_arrays(pa.array(col.to_numpy().view(np.uint8)), bools))
        elif pd.api.types.is_datetime64_any_dtype(col.dtype):
            arrays.append(pa.array(col.dt.date))
        elif pd.api.types.is_float_dtype(col.dtype):
            values = col.to_numpy()
            whole = np.isnan(values) | (values == np.round(values))
            if not whole.all():
                return False
            whole_text = np.char.add(np.nan_to_num(values).astype(np.int64).astype(str), ".0")
            text = np.where(np.isnan(values), None, whole_text)
            arrays.append(pa.array(text, type=pa.string()))
        elif pd.api.types.is_integer_dtype(col.dtype):
            arrays.append(pa.array(col.to_numpy()))
        else:
            text = col.astype("str")
            if text.str.contains(r'[,"\n\r]', regex=True, na=False).any():
                return False
            arrays.append(pa.array(text.array).cast(pa.large_string()))  # Arrow-backed: no copy per row
    table = pa.Table.from_arrays(arrays, names=[str(c) for c in df.columns])
    with open(path, "wb") as fh:
        fh.write((",".join(map(str, df.columns)) + "\n").encode("utf-8"))
        options = pacsv.WriteOptions(include_header=False, quoting_style="none")
        pacsv.write_csv(table, fh, write_options=options)
    return True


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


MANIFEST_NAME = "SYNTHETIC_DATA.json"


#: Data keys naming real published inputs that the generator does not write.
EXTERNAL_DATA_KEYS = frozenset({"pcn_activity"})


def generate(params, out_dir=None, progress: bool = True) -> dict[str, Path]:
    """Generate a synthetic area and write every file configured under the YAML's ``data:`` keys.

    Parameters
    ----------
    params : AreaParams, or the path of an area YAML (relative to the project root or absolute). The area must
        be marked ``synthetic: true`` (the generator refuses to write over a real area's inputs).
    out_dir : folder to write into (default ``params.data.folder``, i.e. data/raw/synthetic/<slug>).
    progress : print one line per step with its time.

    Returns ``{data key: path}`` for every file written, plus ``manifest`` (SYNTHETIC_DATA.json: the area is
    synthetic, the seed, the generating model's truth and each file's SHA-256). Files are written into a
    temporary folder next to ``out_dir`` and moved in only when all are complete; the same seed gives
    byte-identical files.
    """
    p = _load(params)
    if not p.area.synthetic:
        raise InputError(p.source, "area.synthetic is not true: popheal.synth only generates synthetic areas "
                                   "(it will not write over a real area's inputs)", column="area.synthetic")
    out = paths.resolve(out_dir) if out_dir is not None else Path(p.data.folder)
    # published data an area YAML may point at (real, not generated), e.g. PCN-level activity: left alone
    files = {k: v for k, v in p.data.files.items() if k not in EXTERNAL_DATA_KEYS}
    t0 = time.perf_counter()

    def say(msg: str) -> None:
        if progress:
            print(f"popheal.synth [{p.area.slug}] {time.perf_counter() - t0:6.1f}s  {msg}", file=sys.stderr)

    area = synthetic_area(p)
    st = area.structure
    say(f"{len(area.patients):,} patients in {len(st.practices)} practices, {len(st.lsoas)} LSOAs")
    start, end = p.period.start, p.period.end
    res = residents(st)

    writers: dict[str, Callable[[Path], None]] = {
        "registrations": lambda f: _write_table(f, registrations_table(area, start)),
        "practice_map": lambda f: _write_table(f, practice_map_table(area, start, p.area.name)),
        "lsoa_population": lambda f: _write_table(f, lsoa_population_table(area, res)),
        "imd": lambda f: _write_table(f, imd_table(area, p.area.code, p.area.name)),
        "boundaries": lambda f: _write_text(f, boundaries_geojson(area)),
        "practice_locations": lambda f: _write_table(f, practice_locations_table(area, p.area.name)),
        "projection": lambda f: _write_text(f, snpp_csv(project(res, p.period.base_year, p.area.code),
                                                         p.area.code, p.area.name)),
        "life_table": lambda f: _write_table(f, life_table()),
        "fertility": lambda f: _write_table(f, fertility_rates(p.area.code)),
        "migration": lambda f: _write_table(f, net_migration(p.area.code, res.sum())),
        "patients": lambda f: _write_table(f, area.patients),
        "referrals": lambda f: _write_table(f, simulate_referrals(st, start, end)),
        "mid_year_estimates": lambda f: _write_table(f, mid_year_estimates_table(res, p.area.code,
                                                                                  p.area.name)),
    }
    unknown = [k for k in files if k not in writers]
    if unknown:
        raise InputError(p.source, f"popheal.synth cannot generate data key(s) {', '.join(unknown)}",
                         column="data")

    out.parent.mkdir(parents=True, exist_ok=True)
    # a hidden temporary folder beside the output (same file system, so the final moves are atomic); made
    # with mkdir, not mkdtemp, so that it gets the user's usual permissions when it becomes the output folder
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    written: dict[str, Path] = {}
    try:
        for key, name in files.items():
            writers[key](tmp / name)
            say(f"wrote {name}")
        truth = _practice_truth(st)
        manifest = {
            "synthetic": True,
            "generator": f"popheal.synth {GENERATOR_VERSION}",
            "area": {"code": p.area.code, "name": p.area.name, "slug": p.area.slug},
            "seed": int(p.seed),
            "period": {"start": start.isoformat(), "end": end.isoformat(), "base_year": p.period.base_year},
            "note": "SYNTHETIC DATA generated by popheal.synth: no real person is described.",
            "truth": {
                "admission_coefficients": M.ADMISSION_COEFFICIENTS,
                "referral_planted_outliers": {
                    str(r.practice_code): float(r.planted_multiplier)
                    for r in truth.itertuples() if not np.isnan(r.planted_multiplier)},
                "referral_planted_specialty": {
                    str(r.practice_code): str(r.planted_specialty) for r in truth.itertuples()
                    if pd.notna(r.planted_specialty)},
                "referral_effects": {
                    str(c): round(float(v), 6)
                    for c, v in zip(truth["practice_code"], truth["referral_effect"], strict=True)},
            },
            "files": {key: {"name": name, "sha256": _sha256(tmp / name)} for key, name in files.items()},
        }
        text = json.dumps(manifest, indent=1, sort_keys=True, allow_nan=False)
        _write_text(tmp / MANIFEST_NAME, text + "\n")
        names = [*files.items(), ("manifest", MANIFEST_NAME)]
        if not out.exists():
            os.replace(tmp, out)  # a new folder appears complete, in one step
        else:  # an existing folder: each file is replaced in one step; other files are left alone
            for _, name in names:
                (out / name).parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp / name, out / name)
        written = {key: out / name for key, name in names}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    say(f"done: {len(written)} files in {out}")
    return written
