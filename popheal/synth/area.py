"""The synthetic area's structure: practices and list sizes, LSOAs and their shapes, deprivation, catchments,
and the registered population by practice, sex and single year of age (the patient "skeleton")."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely
import shapely.geometry

from popheal.synth import model as M
from popheal.synth._util import apportion, stream

__all__ = [
    "AreaSpec",
    "PCNSpec",
    "Structure",
    "build_structure",
    "life_table_mx",
    "list_inflation",
    "lsoa_polygons_lonlat",
    "practice_table",
    "registered_age_structure",
    "resident_age_structure",
    "split_list",
    "to_lonlat",
]

TOP_AGE = 105  # oldest single year generated
LSOA_CODE_BASE = 99000  # E01099000.. (an unused range: real LSOA 2011 codes stop at E01033768)
MAX_LSOAS = 1000
PATIENTS_PER_PRACTICE_DEFAULT = 6500  # patients(n) without practices: one practice per 6,500 patients


@dataclass(frozen=True)
class PCNSpec:
    code: str
    name: str
    list_size: int
    practices: tuple[tuple[str, str, int | None], ...]  # (code, name, list size or None)


@dataclass(frozen=True)
class AreaSpec:
    code: str
    name: str
    slug: str
    seed: int
    pcns: tuple[PCNSpec, ...]


@dataclass
class Structure:
    """Everything about the area except the patients' attributes."""

    spec: AreaSpec
    practices: pd.DataFrame  # one row per practice (area order)
    lsoas: pd.DataFrame  # one row per LSOA
    catchment: np.ndarray  # (practices, LSOAs) expected registered patients
    counts: np.ndarray  # (practices, 2 sexes [F, M], ages 0..TOP_AGE) registered patients
    unit: float  # metres per lattice unit
    cells: np.ndarray = field(repr=False)  # LSOA polygons (shapely, lattice units; x east, y north)
    # patient skeleton, rows in extract order
    practice_idx: np.ndarray = field(repr=False, default=None)
    sex_idx: np.ndarray = field(repr=False, default=None)  # 0 = F, 1 = M
    age: np.ndarray = field(repr=False, default=None)
    lsoa_idx: np.ndarray = field(repr=False, default=None)  # true LSOA of residence
    lsoa_recorded: np.ndarray = field(repr=False, default=None)  # bool: LSOA present in the extract


# ---------------------------------------------------------------------------------------------- list sizes
def split_list(total: int, n: int, seed: int, key: str) -> np.ndarray:
    """Deterministic split of a PCN's list ``total`` into ``n`` practice lists that sum to it exactly.

    Practice sizes vary as in real PCNs (lognormal, sd 0.35 on the log scale, at least a tenth of the mean).
    """
    if n <= 0:
        raise ValueError("a PCN needs at least one practice")
    w = np.exp(stream(seed, "practice_lists", key).normal(0.0, 0.35, size=n))
    w = np.maximum(w / w.mean(), 0.1)
    return apportion(int(total), w)


def practice_table(spec: AreaSpec) -> pd.DataFrame:
    """One row per practice (area order): code, name, PCN, list size (the YAML's, else a split)."""
    rows = []
    for pcn in spec.pcns:
        sizes = [p[2] for p in pcn.practices]
        if all(s is not None for s in sizes):
            split = np.asarray(sizes, dtype=np.int64)
        else:
            split = split_list(pcn.list_size, len(pcn.practices), spec.seed, pcn.code)
        for (code, name, _), size in zip(pcn.practices, split, strict=True):
            rows.append((code, name, pcn.code, pcn.name, int(size)))
    return pd.DataFrame(rows, columns=["practice_code", "practice_name", "pcn_code", "pcn_name", "list_size"])


# ------------------------------------------------------------------------------------------ age structure
def life_table_mx(sex: str, top: int = 110) -> np.ndarray:
    """Central death rates m(x), x = 0..top, of the parametric UK 2017-19 life table.

    Parameters: model.LIFE_TABLE_PARAMETERS.
    """
    p = M.LIFE_TABLE_PARAMETERS[sex]
    x = np.arange(top + 1, dtype=float)
    return (np.exp(p["a0"]) * np.exp(-np.exp(p["b0"]) * x) + np.exp(p["A"])
            + np.exp(p["h"]) * np.exp(-(((x - 22.0) / 6.0) ** 2)) + np.exp(p["B"]) * np.exp(p["c"] * x))


def _person_years(sex: str, top: int = 110) -> np.ndarray:
    m = life_table_mx(sex, top)
    a = np.where(np.arange(top + 1) == 0, 0.1, 0.5)
    q = np.clip(m / (1 + (1 - a) * m), 0, 1)
    lx = np.concatenate([[1.0], np.cumprod(1 - q)[:-1]])
    return lx * (1 - (1 - a) * q)


def resident_age_structure(top: int = TOP_AGE) -> np.ndarray:
    """Wolverhampton mid-2019 residents by sex (F, M) and single year 0..top (array 2 x (top+1)).

    Persons by age are the ONS estimates; 90+ is spread over 90..top and persons are split by sex with the
    stationary population of the synthetic life table (male births 1.05 per female; an ASSUMPTION).
    """
    persons = np.asarray(M.WOLVERHAMPTON_MYE_2019, dtype=float)
    Lf, Lm = _person_years("female", top), _person_years("male", top)
    Lm = Lm * M.SEX_RATIO_AT_BIRTH
    out = np.zeros((2, top + 1))
    male_share = Lm[:90] / (Lm[:90] + Lf[:90])
    out[1, :90] = persons[:90] * male_share
    out[0, :90] = persons[:90] - out[1, :90]
    old_f, old_m = Lf[90:], Lm[90:]
    total_old = old_f.sum() + old_m.sum()
    out[0, 90:] = persons[90] * old_f / total_old
    out[1, 90:] = persons[90] * old_m / total_old
    return out


def list_inflation(top: int = TOP_AGE) -> np.ndarray:
    ages, values = M.LIST_INFLATION_KNOTS
    return np.interp(np.arange(top + 1), ages, values)


def registered_age_structure(top: int = TOP_AGE) -> np.ndarray:
    """Registered population shape by sex and age: residents x list inflation (2 x (top+1), sums to 1)."""
    reg = resident_age_structure(top) * list_inflation(top)[None, :]
    return reg / reg.sum()


# -------------------------------------------------------------------------------------------- geography
def _partition(points: np.ndarray, idx: np.ndarray, weights: np.ndarray, labels: np.ndarray, out: np.ndarray):
    """Recursive proportional bisection: split ``idx`` into contiguous groups sized by ``weights``."""
    if len(labels) == 1:
        out[idx] = labels[0]
        return
    cw = np.cumsum(weights)
    k = int(np.clip(np.searchsorted(cw, cw[-1] / 2), 0, len(labels) - 2)) + 1
    n_left = round(len(idx) * cw[k - 1] / cw[-1])
    n_left = int(np.clip(n_left, k, len(idx) - (len(labels) - k)))
    pts = points[idx]
    axis = int(np.argmax(pts.max(axis=0) - pts.min(axis=0)))
    order = np.argsort(pts[:, axis], kind="stable")
    _partition(points, idx[order[:n_left]], weights[:k], labels[:k], out)
    _partition(points, idx[order[n_left:]], weights[k:], labels[k:], out)


def _lattice(n: int, rng: np.random.Generator) -> np.ndarray:
    """Jittered hexagonal lattice points, the ``n`` inside an irregular area outline first (unit spacing)."""
    radius = np.sqrt(3.2 * n / (np.pi * 2 / np.sqrt(3))) + 3
    k = int(np.ceil(radius)) + 2
    i, j = np.meshgrid(np.arange(-k, k + 1), np.arange(-k, k + 1), indexing="ij")
    x = (i + 0.5 * (j % 2)).ravel().astype(float)
    y = (j * np.sqrt(3) / 2).ravel()
    pts = np.column_stack([x, y])
    pts = pts[np.hypot(x, y) <= radius]
    ang = rng.uniform(0, 2 * np.pi, len(pts))
    rad = 0.28 * np.sqrt(rng.uniform(0, 1, len(pts)))
    pts = pts + np.column_stack([rad * np.cos(ang), rad * np.sin(ang)])
    phase = rng.uniform(0, 2 * np.pi, 2)
    theta = np.arctan2(pts[:, 1], pts[:, 0])
    outline = 1 + 0.14 * np.sin(2 * theta + phase[0]) + 0.09 * np.sin(3 * theta + phase[1])
    rho = np.hypot(pts[:, 0], pts[:, 1]) / outline
    order = np.argsort(rho, kind="stable")
    return pts[order]


def _warp(pts: np.ndarray, r_sel: float, gamma: float = 1.35) -> np.ndarray:
    """Radial warp: smaller (denser) LSOAs in the centre, larger at the edge, as in a real town."""
    r = np.hypot(pts[:, 0], pts[:, 1])
    scale = np.where(r > 0, (r / r_sel) ** (gamma - 1), 1.0)
    return pts * scale[:, None]


def _deprivation(pts: np.ndarray, r_sel: float, rng: np.random.Generator) -> np.ndarray:
    """A smooth deprivation field (higher = more deprived): east and centre deprived, west affluent."""
    x, y = pts[:, 0] / r_sel, pts[:, 1] / r_sel
    f = 0.9 * x - 0.8 * np.hypot(x, y)
    for _ in range(3):
        cx, cy = rng.uniform(-0.8, 0.8, 2)
        f = f + rng.normal(0, 0.6) * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * 0.3 ** 2))
    return f + rng.normal(0, 0.35, len(f))


def _imd(field_values: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """National IMD deciles in Wolverhampton's proportions (most deprived field first), consistent ranks."""
    n = len(field_values)
    counts = apportion(n, M.WOLVERHAMPTON_IMD_DECILE_COUNTS)
    order = np.argsort(-field_values, kind="stable")
    decile = np.empty(n, dtype=np.int64)
    rank = np.empty(n, dtype=np.int64)
    upper = np.asarray(M.IMD_DECILE_UPPER_RANKS)
    lower = np.concatenate([[1], upper[:-1] + 1])
    start = 0
    for d in range(10):
        k = int(counts[d])
        if k == 0:
            continue
        members = order[start:start + k]
        decile[members] = d + 1
        ranks = np.sort(rng.choice(np.arange(lower[d], upper[d] + 1), size=k, replace=False))
        rank[members] = ranks
        start += k
    return rank, decile


def n_lsoas_for(n_registered: int, n_practices: int) -> int:
    """How many LSOAs an area of ``n_registered`` patients gets (Wolverhampton's density; at most 1,000)."""
    residents = resident_age_structure()
    inflation = float((residents * list_inflation()[None, :]).sum() / residents.sum())
    n = round(n_registered / (inflation * M.LSOA_MEAN_RESIDENTS))
    n = max(n, 2 * n_practices, 6)
    if n_practices > MAX_LSOAS:
        raise ValueError(f"at most {MAX_LSOAS} practices can be generated (one LSOA code range E01099xxx)")
    return int(min(n, MAX_LSOAS))


def _lsoa_names(area_name: str, pts: np.ndarray) -> np.ndarray:
    """LSOA names in the ONS style ('<LAD> 012A'): MSOA-like groups of about five neighbours."""
    n = len(pts)
    n_msoa = max(1, round(n / 5))
    groups = np.empty(n, dtype=np.int64)
    _partition(pts, np.arange(n), np.ones(n_msoa), np.arange(n_msoa), groups)
    # number MSOAs north to south like ONS (roughly)
    centre_y = np.array([pts[groups == g, 1].mean() for g in range(n_msoa)])
    msoa_number = np.empty(n_msoa, dtype=np.int64)
    msoa_number[np.argsort(-centre_y, kind="stable")] = np.arange(1, n_msoa + 1)
    names = np.empty(n, dtype=object)
    for g in range(n_msoa):
        members = np.flatnonzero(groups == g)
        members = members[np.argsort(pts[members, 0], kind="stable")]
        for k, m in enumerate(members):
            letters = chr(65 + k % 26) if k < 26 else chr(65 + k // 26 - 1) + chr(65 + k % 26)
            names[m] = f"{area_name} {msoa_number[g]:03d}{letters}"
    return names


def _ipf(kernel: np.ndarray, rows: np.ndarray, cols: np.ndarray, iterations: int = 200) -> np.ndarray:
    a = kernel.copy()
    for _ in range(iterations):
        a *= (rows / np.maximum(a.sum(axis=1), 1e-300))[:, None]
        a *= (cols / np.maximum(a.sum(axis=0), 1e-300))[None, :]
    a *= (rows / np.maximum(a.sum(axis=1), 1e-300))[:, None]
    return a


def _postcodes(n: int) -> list[str]:
    """Synthetic practice postcodes: WV99 is not a geographic Wolverhampton district (they look synthetic)."""
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    return [f"WV99 {1 + i % 9}{letters[(i // 9) % 20]}{letters[(i // 180) % 20]}" for i in range(n)]


# ------------------------------------------------------------------------------------------------ build
def build_structure(spec: AreaSpec) -> Structure:
    """Practices, LSOAs, deprivation, catchments and the registered patients' practice, sex, age and LSOA."""
    seed = spec.seed
    practices = practice_table(spec)
    n_prac = len(practices)
    total = int(practices["list_size"].sum())
    n_lsoa = n_lsoas_for(total, n_prac)

    rng_geo = stream(seed, "geography")
    lattice = _lattice(n_lsoa, rng_geo)
    sel = lattice[:n_lsoa]
    r_sel = float(np.hypot(sel[:, 0], sel[:, 1]).max())
    warped = _warp(lattice, r_sel)
    sel_w = warped[:n_lsoa]
    cells = _voronoi(warped)[:n_lsoa]
    # metres per lattice unit, so that the LSOAs' mean area is Wolverhampton's
    unit = float(np.sqrt(M.LSOA_MEAN_AREA_M2 * n_lsoa / float(shapely.area(cells).sum())))

    rng_dep = stream(seed, "deprivation")
    fld = _deprivation(sel_w, float(np.hypot(sel_w[:, 0], sel_w[:, 1]).max()), rng_dep)
    imd_rank, imd_decile = _imd(fld, rng_dep)
    lsoas = pd.DataFrame({
        "lsoa11": [f"E01{LSOA_CODE_BASE + i:06d}" for i in range(n_lsoa)],
        "lsoa_name": _lsoa_names(spec.name, sel_w),
        "x": sel_w[:, 0] * unit,
        "y": sel_w[:, 1] * unit,
        "imd_rank": imd_rank,
        "imd_decile": imd_decile,
    })
    lsoas["dep"] = (10 - lsoas["imd_decile"]) / 9.0

    # PCNs as spatial clusters, practices as clusters inside them (on the unwarped lattice)
    pcn_codes = practices["pcn_code"].unique()
    pcn_sizes = practices.groupby("pcn_code", sort=False)["list_size"].sum().reindex(pcn_codes).to_numpy()
    pcn_of = np.empty(n_lsoa, dtype=np.int64)
    _partition(sel, np.arange(n_lsoa), np.maximum(pcn_sizes, 1).astype(float), np.arange(len(pcn_codes)),
               pcn_of)
    home = np.empty(n_lsoa, dtype=np.int64)
    for k, code in enumerate(pcn_codes):
        members = np.flatnonzero(pcn_of == k)
        pr = np.flatnonzero(practices["pcn_code"].to_numpy() == code)
        if len(members) < len(pr):
            raise ValueError(f"PCN {code} has more practices than LSOAs in its cluster")
        _partition(sel, members, np.maximum(practices["list_size"].to_numpy()[pr], 1).astype(float), pr, home)
    lsoas["home_practice"] = home

    # practice sites: in the LSOA nearest the middle of the practice's home cluster
    rng_site = stream(seed, "practice_sites")
    site_lsoa = np.empty(n_prac, dtype=np.int64)
    for p in range(n_prac):
        members = np.flatnonzero(home == p)
        c = sel[members].mean(axis=0)
        site_lsoa[p] = members[np.argmin(np.hypot(*(sel[members] - c).T))]
    jitter = rng_site.normal(0, 0.06, size=(n_prac, 2))
    site = (sel_w[site_lsoa] + jitter) * unit
    practices["site_lsoa"] = site_lsoa
    practices["x"], practices["y"] = site[:, 0], site[:, 1]
    practices["postcode"] = _postcodes(n_prac)

    # catchments: expected registered patients of practice p living in LSOA l (IPF of a distance kernel)
    rng_cat = stream(seed, "catchment")
    d = np.hypot(sel[None, :, 0] - sel[site_lsoa][:, None, 0], sel[None, :, 1] - sel[site_lsoa][:, None, 1])
    kernel = np.exp(-d / 1.4) * np.where(home[None, :] == np.arange(n_prac)[:, None], 3.0, 1.0)
    cap = np.exp(rng_cat.normal(0, 0.18, n_lsoa))
    cap = cap / cap.sum() * total
    sizes = practices["list_size"].to_numpy().astype(float)
    catch = _ipf(kernel + 1e-12, sizes, cap) if total > 0 else np.zeros((n_prac, n_lsoa))
    with np.errstate(invalid="ignore", divide="ignore"):
        practices["dep"] = np.where(sizes > 0, catch @ lsoas["dep"].to_numpy() / sizes, lsoas["dep"].mean())
        practices["core20_share"] = np.where(
            sizes > 0, catch @ (lsoas["imd_decile"].to_numpy() <= 2).astype(float) / sizes, 0.0)
    centre_dist = np.hypot(practices["x"], practices["y"]) / (r_sel * unit)
    practices["edge"] = centre_dist.to_numpy()

    # registered patients by practice, sex and age: the area's shape tilted younger in deprived practices
    rng_age = stream(seed, "age_structure")
    base = registered_age_structure()
    ages = np.arange(TOP_AGE + 1)
    tilt_shape = np.clip((40.0 - ages) / 30.0, -1.5, 1.0)
    dep = practices["dep"].to_numpy()
    z = (dep - dep.mean()) / (dep.std() if dep.std() > 0 else 1.0)
    tau = 0.22 * z + rng_age.normal(0, 0.10, n_prac)
    w = base[None, :, :] * np.exp(tau[:, None, None] * tilt_shape[None, None, :])
    # fit the tilted shapes so the area as a whole keeps the Wolverhampton shape (IPF: practices x cells)
    sizes_f = practices["list_size"].to_numpy().astype(float)
    flat = w.reshape(n_prac, -1) * sizes_f[:, None] / w.reshape(n_prac, -1).sum(axis=1, keepdims=True)
    if total > 0:
        flat = _ipf(flat + 1e-300, sizes_f, base.reshape(-1) * total, iterations=50)
    w = (flat / np.maximum(flat.sum(axis=1, keepdims=True), 1e-300)).reshape(w.shape)
    counts = rng_age.multinomial(practices["list_size"].to_numpy(), w.reshape(n_prac, -1)).reshape(w.shape)

    st = Structure(spec=spec, practices=practices, lsoas=lsoas, catchment=catch, counts=counts, unit=unit,
                   cells=cells)
    _skeleton(st)
    return st


def _skeleton(st: Structure) -> None:
    """Expand the counts into patients (shuffled within practice); draw each one's LSOA from the catchment."""
    seed = st.spec.seed
    n_prac, _, n_age = st.counts.shape
    flat = st.counts.reshape(-1)
    cell = np.repeat(np.arange(flat.size), flat)
    practice_idx = cell // (2 * n_age)
    sex_idx = (cell // n_age) % 2
    age = cell % n_age
    rng = stream(seed, "skeleton")
    order = np.argsort(practice_idx + rng.random(cell.size), kind="stable")  # shuffle within practice
    practice_idx, sex_idx, age = practice_idx[order], sex_idx[order], age[order]

    n_lsoa = st.catchment.shape[1]
    prob = st.catchment / np.maximum(st.catchment.sum(axis=1, keepdims=True), 1e-300)
    cum = np.cumsum(prob, axis=1)
    cum[:, -1] = 1.0
    flat_cum = (cum + np.arange(n_prac)[:, None]).ravel()
    u = rng.random(cell.size) * (1 - 1e-12)
    pos = np.searchsorted(flat_cum, practice_idx + u, side="right")
    lsoa_idx = np.clip(pos - practice_idx * n_lsoa, 0, n_lsoa - 1)
    recorded = stream(seed, "lsoa_missing").random(cell.size) >= M.LSOA_MISSING_SHARE

    st.practice_idx = practice_idx.astype(np.int32)
    st.sex_idx = sex_idx.astype(np.int8)
    st.age = age.astype(np.int16)
    st.lsoa_idx = lsoa_idx.astype(np.int32)
    st.lsoa_recorded = recorded


def _voronoi(pts: np.ndarray) -> np.ndarray:
    """Voronoi cells of every lattice point, in the points' order (the outer points only bound the inner)."""
    span = pts.max(axis=0) - pts.min(axis=0)
    env = shapely.box(*(pts.min(axis=0) - span), *(pts.max(axis=0) + span))
    return shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=env, ordered=True))


def lsoa_polygons_lonlat(st: Structure, decimals: int = 6) -> list[list[list[float]]]:
    """Each LSOA's outer ring as [lon, lat] pairs, anticlockwise (WGS84; a local plane at the area centre)."""
    lat0, lon0 = M.AREA_CENTRE_LATLON
    m_per_deg_lat = 111_250.0
    m_per_deg_lon = m_per_deg_lat * np.cos(np.radians(lat0))
    rings = []
    for cell in st.cells:
        poly = shapely.geometry.polygon.orient(cell, 1.0)
        xy = np.asarray(poly.exterior.coords) * st.unit
        lon = np.round(lon0 + xy[:, 0] / m_per_deg_lon, decimals)
        lat = np.round(lat0 + xy[:, 1] / m_per_deg_lat, decimals)
        rings.append(np.column_stack([lon, lat]).tolist())
    return rings


def to_lonlat(x_m: np.ndarray, y_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lat0, lon0 = M.AREA_CENTRE_LATLON
    m_per_deg_lat = 111_250.0
    m_per_deg_lon = m_per_deg_lat * np.cos(np.radians(lat0))
    return lon0 + np.asarray(x_m) / m_per_deg_lon, lat0 + np.asarray(y_m) / m_per_deg_lat
