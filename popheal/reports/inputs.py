"""Read and check every input of an area once, through popheal.io, and note data-quality issues.

Malformed input stops the run (popheal.io raises InputError naming file, column, rows and rule). Well-formed
but unknown values (a practice in an extract that the area does not list, an LSOA missing from the IMD file,
an empty LSOA) are counted here, listed in the pack's data-quality note, and excluded only from the analyses
that need them: nothing is dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from popheal import io
from popheal.io.errors import InputError
from popheal.params import AreaParams

__all__ = ["AreaInputs", "load_inputs"]


@dataclass
class AreaInputs:
    params: AreaParams
    registrations: pd.DataFrame  # practice_code, sex, age_band, population (+ pcn_code)
    practice_map: pd.DataFrame | None
    lsoa_population: pd.DataFrame
    imd: pd.DataFrame
    boundaries: object  # GeoDataFrame lsoa11, geometry (EPSG:27700)
    practice_locations: pd.DataFrame | None
    projection: pd.DataFrame
    life_table: pd.DataFrame
    fertility: pd.DataFrame | None
    migration: pd.DataFrame | None
    patients: pd.DataFrame  # + pcn_code
    referrals: pd.DataFrame  # + pcn_code
    quality: list[dict] = field(default_factory=list)  # {"input", "issue", "count", "action"}

    def note(self, input_key: str, issue: str, count: int, action: str, pcn_code: str = "") -> None:
        """Record a data-quality issue (``pcn_code`` when it concerns one PCN only: shown only in its pack)."""
        if count:
            self.quality.append({"input": input_key, "issue": issue, "count": int(count), "action": action,
                                 "pcn_code": pcn_code})


def _optional(params: AreaParams, key: str, reader):
    path = params.data.path(key)
    return None if path is None else reader(path)


def load_inputs(params: AreaParams) -> AreaInputs:
    """Read every configured input; restrict to the area's practices; record data-quality notes."""
    d = params.data
    for key in params.data.files:
        p = d.path(key)
        if p is not None and not p.exists():
            raise InputError(p, f"input file for data.{key} not found (area file {params.source.name}; for the "
                             "demo area run `popheal synth` first)", column=f"data.{key}")
    practice_pcn = params.practice_to_pcn()
    inputs = AreaInputs(
        params=params,
        registrations=io.read_registrations_5y(d.path("registrations")),
        practice_map=_optional(params, "practice_map", io.read_practice_map),
        lsoa_population=io.read_lsoa_population(d.path("lsoa_population")),
        imd=io.read_imd(d.path("imd")),
        boundaries=io.read_lsoa_boundaries(d.path("boundaries")),
        practice_locations=_optional(params, "practice_locations", io.read_practice_locations),
        projection=io.read_snpp(d.path("projection")),
        life_table=io.read_life_table(d.path("life_table")),
        fertility=_optional(params, "fertility", io.read_fertility),
        migration=_optional(params, "migration", io.read_migration),
        patients=io.read_patient_extract(d.path("patients")),
        referrals=io.read_referral_extract(d.path("referrals")),
    )
    known = set(practice_pcn)

    reg = inputs.registrations
    missing = sorted(known - set(reg["practice_code"]))
    if missing:
        raise InputError(d.path("registrations"), f"no registered list for practice(s) {', '.join(missing[:5])} "
                         f"named in {params.source.name}", column="ORG_CODE")
    inputs.registrations = reg[reg["practice_code"].isin(known)].assign(
        pcn_code=lambda t: t["practice_code"].map(practice_pcn)).reset_index(drop=True)

    for key in ("patients", "referrals"):
        frame = getattr(inputs, key)
        unknown = ~frame["practice_code"].isin(known)
        inputs.note(key, "rows for practices not listed in the area file", unknown.sum(), "excluded from all analyses")
        frame = frame[~unknown].assign(pcn_code=lambda t: t["practice_code"].map(practice_pcn))
        setattr(inputs, key, frame.reset_index(drop=True))

    pts = inputs.patients
    no_lsoa = pts["lsoa11"].isna()
    inputs.note("patients", "patients with no recorded LSOA of residence", no_lsoa.sum(),
                "excluded from deprivation breakdowns and maps; counted in all other analyses")
    not_in_imd = ~no_lsoa & ~pts["lsoa11"].isin(inputs.imd["lsoa11"])
    inputs.note("patients", "patients living in an LSOA not in the IMD file", not_in_imd.sum(),
                "excluded from deprivation breakdowns (shown as unmatched)")
    sex_u = pts["sex"].eq("U")
    inputs.note("patients", "patients with sex recorded as unknown (U)", sex_u.sum(),
                "excluded from age/sex-standardised figures; counted in totals")
    for pcn in params.pcns:
        if pcn.list_size is None:
            continue
        registered = int(inputs.registrations.loc[inputs.registrations["pcn_code"] == pcn.code, "population"].sum())
        if registered != pcn.list_size:
            inputs.note("registrations", "the PCN's registered list differs from the list size in the area file "
                        "(records = the difference)", abs(registered - pcn.list_size),
                        "the registered list file is used", pcn_code=pcn.code)
    return inputs
