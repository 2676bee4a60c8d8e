"""Demographic projection for PCN packs: cohort-component engine, apportionment, growth, scenarios, demand.

Sources: ONS national population projections methodology and ONS subnational population projections (SNPP)
methodology (cohort-component model, components evenly through the year, 90+ open group); Preston, Heuveline
& Guillot (2001) *Demography* ch. 3 and 6 (life tables, projection survival ratios); NIHR workload study
(ncbi.nlm.nih.gov/books/NBK539956, Appendix 31) for apportioning area projections to practices.
"""

from popheal.projection._apportion import apportion, constrain, project_pcn
from popheal.projection._assumptions import fertility_schedule, residual_migration
from popheal.projection._bands import AGE_BANDS, band_ages, single_years, to_age_band
from popheal.projection._cohort import cohort_component
from popheal.projection._demand import (
    ACCESS_STANDARD_PER_1000_PER_WEEK,
    contact_rates,
    prevalence_rates,
    project_contacts,
    project_registers,
)
from popheal.projection._growth import PACK_AGE_RANGES, age_range_label, age_range_totals, growth
from popheal.projection._lifetable import life_table, persons_mortality, survival_ratios
from popheal.projection._scenarios import (
    VARIANTS,
    project_scenarios,
    scale_fertility,
    scale_migration,
    scale_mortality,
    scenario_range,
)

__all__ = [
    "ACCESS_STANDARD_PER_1000_PER_WEEK",
    "AGE_BANDS",
    "PACK_AGE_RANGES",
    "VARIANTS",
    "age_range_label",
    "age_range_totals",
    "apportion",
    "band_ages",
    "cohort_component",
    "constrain",
    "contact_rates",
    "fertility_schedule",
    "growth",
    "life_table",
    "persons_mortality",
    "prevalence_rates",
    "project_contacts",
    "project_pcn",
    "project_registers",
    "project_scenarios",
    "residual_migration",
    "scale_fertility",
    "scale_migration",
    "scale_mortality",
    "scenario_range",
    "single_years",
    "survival_ratios",
    "to_age_band",
]
