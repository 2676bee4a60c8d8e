"""Inequalities: Core20 share, breakdowns by deprivation and ethnicity, gaps, SII/RII, excess events,
Core20PLUS5 coverage measures and life expectancy by deprivation.

Deprivation is national: IMD 2019 deciles of the person's LSOA of residence (1 = most deprived 10% of LSOAs
in England), quintile = ceil(decile / 2), Core20 = deciles 1-2 (NHS England, Core20PLUS5, 2021). The
statistics come from :mod:`popheal.stats` (DSR: Dobson, ESP2013; proportions: Wilson; life expectancy:
Chiang II with Silcocks limits; SII/RII: OHID/PHE technical guidance and Low & Low 2004). SII sign: PHE
convention, see :data:`SII_CONVENTION`.

Submodules: ``core20`` (Core20 share, deprivation lookups), ``aggregate`` (extract -> numerator/denominator
tables), ``breakdowns`` (standardised breakdowns, gaps, SII, excess events), ``core20plus5`` (coverage
measures), ``life_expectancy`` (LE by quintile, gap and SII).
"""

from popheal.inequalities._common import AGE_BANDS, BREAKDOWN_LABELS, DECILE_LABELS, QUINTILE_LABELS
from popheal.inequalities.aggregate import (
    age_band_5y,
    aggregate_extract,
    lsoa_pcn_assignment,
    prepare_extract,
)
from popheal.inequalities.breakdowns import (
    SII_CONVENTION,
    default_measures,
    deprivation_breakdown,
    deprivation_gap,
    ethnicity_breakdown,
    excess_events,
    inequality_summary,
    measure_label,
    slope_index,
    standardised_breakdown,
)
from popheal.inequalities.core20 import (
    CORE20_DECILES,
    add_deprivation,
    core20_share,
    deprivation_quintile,
    imd_lookup,
    population_from_extract,
    population_from_lsoa_table,
)
from popheal.inequalities.core20plus5 import (
    CORE20PLUS5_TARGETS,
    SBP_TARGET_80_PLUS,
    SBP_TARGET_UNDER_80,
    core20plus5_counts,
    core20plus5_definitions,
    core20plus5_measures,
)
from popheal.inequalities.life_expectancy import (
    life_expectancy_by_deprivation,
    life_expectancy_gap,
    prepare_deaths_by_quintile,
)

__all__ = [
    "AGE_BANDS",
    "BREAKDOWN_LABELS",
    "CORE20PLUS5_TARGETS",
    "CORE20_DECILES",
    "DECILE_LABELS",
    "QUINTILE_LABELS",
    "SBP_TARGET_80_PLUS",
    "SBP_TARGET_UNDER_80",
    "SII_CONVENTION",
    "add_deprivation",
    "age_band_5y",
    "aggregate_extract",
    "core20_share",
    "core20plus5_counts",
    "core20plus5_definitions",
    "core20plus5_measures",
    "default_measures",
    "deprivation_breakdown",
    "deprivation_gap",
    "deprivation_quintile",
    "ethnicity_breakdown",
    "excess_events",
    "imd_lookup",
    "inequality_summary",
    "life_expectancy_by_deprivation",
    "life_expectancy_gap",
    "lsoa_pcn_assignment",
    "measure_label",
    "population_from_extract",
    "population_from_lsoa_table",
    "prepare_deaths_by_quintile",
    "prepare_extract",
    "slope_index",
    "standardised_breakdown",
]
