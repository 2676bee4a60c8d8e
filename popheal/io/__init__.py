"""Readers for the published files popheal uses and for its two extract contracts.

Each reader takes a path (str or Path; relative paths are resolved against the project root by
:func:`popheal.paths.resolve`), accepts the file exactly as published, validates it, and returns the normalised
table of DESIGN.md "Data contracts". Bad input raises :class:`~popheal.io.errors.InputError` naming the file,
the column, the first offending data rows (1-based, counted after the header) and the rule. A well-formed but
unknown value is not an error: count it with :func:`unknown_values`.
"""

from __future__ import annotations

from popheal.io._read import unknown_values
from popheal.io.activity import ACTIVITY_FOLDER, PcnActivity, read_pcn_activity
from popheal.io.deprivation import read_imd, read_practice_imd
from popheal.io.errors import InputError
from popheal.io.extract import read_patient_extract, read_referral_extract
from popheal.io.geography import (
    BRITISH_NATIONAL_GRID,
    make_practice_points,
    read_lsoa_boundaries,
    read_practice_locations,
)
from popheal.io.ons import (
    read_fertility,
    read_life_table,
    read_lsoa_population,
    read_mid_year_estimates,
    read_migration,
    read_snpp,
)
from popheal.io.registrations import (
    AGE_BANDS,
    read_practice_map,
    read_registrations_1y,
    read_registrations_5y,
    read_registrations_total,
)

__all__ = [
    "ACTIVITY_FOLDER",
    "AGE_BANDS",
    "BRITISH_NATIONAL_GRID",
    "InputError",
    "PcnActivity",
    "make_practice_points",
    "read_fertility",
    "read_imd",
    "read_life_table",
    "read_lsoa_boundaries",
    "read_lsoa_population",
    "read_mid_year_estimates",
    "read_migration",
    "read_patient_extract",
    "read_pcn_activity",
    "read_practice_imd",
    "read_practice_locations",
    "read_practice_map",
    "read_referral_extract",
    "read_registrations_1y",
    "read_registrations_5y",
    "read_registrations_total",
    "read_snpp",
    "unknown_values",
]
