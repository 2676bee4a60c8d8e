"""Principal, low and high projection variants (deterministic assumption sets)."""

from __future__ import annotations

import pandas as pd

from popheal.io.errors import InputError
from popheal.projection._cohort import cohort_component

__all__ = ["VARIANTS", "project_scenarios", "scale_fertility", "scale_migration", "scale_mortality",
           "scenario_range"]

#: Variant assumptions as multipliers of the principal's rates, varied one component at a time as ONS does
#: for its national projection variants (high/low life expectancy, high/low migration): mortality rates x0.9
#: and x1.1, net migration x0.5 and x1.5. Own, illustrative ranges - not probabilities. Whether a variant
#: raises or lowers an age group depends on the sign of its net migration (x1.5 of a net outflow of older
#: people lowers 65+), so read the range as the envelope of the variants (see :func:`scenario_range`).
VARIANTS: dict[str, dict[str, float]] = {
    "principal": {},
    "low mortality": {"mortality": 0.9},
    "high mortality": {"mortality": 1.1},
    "low migration": {"migration": 0.5},
    "high migration": {"migration": 1.5},
}


def scale_mortality(mortality: pd.DataFrame, factor: float) -> pd.DataFrame:
    """Multiply the force of mortality by ``factor``: ``mx' = factor mx`` and ``qx' = 1 - (1 - qx)^factor``.

    Scaling the hazard (rather than ``qx`` itself) keeps ``qx`` below 1 and leaves the table unchanged at
    ``factor = 1``.
    """
    if factor < 0:
        raise InputError("factor", "mortality multiplier must be >= 0")
    out = mortality.copy()
    if factor == 1:
        return out
    if "mx" in out.columns:
        out["mx"] = out["mx"].astype(float) * factor
    if "qx" in out.columns:
        out["qx"] = 1.0 - (1.0 - out["qx"].astype(float).clip(0, 1)) ** factor
    return out


def scale_migration(migration: pd.DataFrame | None, factor: float) -> pd.DataFrame | None:
    """Multiply net migration (counts or rates) by ``factor``."""
    if migration is None:
        return None
    out = migration.copy()
    for col in ("net_migration", "net_migration_rate"):
        if col in out.columns:
            out[col] = out[col].astype(float) * factor
    return out


def scale_fertility(fertility: pd.DataFrame | None, factor: float) -> pd.DataFrame | None:
    """Multiply age-specific fertility rates by ``factor`` (the TFR scales with it)."""
    if fertility is None:
        return None
    out = fertility.copy()
    for col in ("asfr", "rate", "fertility_rate"):
        if col in out.columns:
            out[col] = out[col].astype(float) * factor
    return out


def project_scenarios(
    base: pd.DataFrame,
    mortality: pd.DataFrame,
    fertility: pd.DataFrame | None = None,
    migration: pd.DataFrame | None = None,
    *,
    variants: dict[str, dict[str, float]] | None = None,
    projector=cohort_component,
    **kwargs,
) -> pd.DataFrame:
    """Run the projection under each variant and stack the results with a leading ``scenario`` column.

    ``variants`` maps a name to multipliers of ``mortality``, ``migration`` and ``fertility`` (default
    :data:`VARIANTS`: the principal and four one-component variants). ``projector`` is :func:`cohort_component` (default) or any
    function with the same first four arguments, e.g. :func:`project_pcn` (then pass ``area_projection``
    and the rest as keywords; note a projection constrained to one area projection keeps that area's
    totals, so constrain each variant to the matching area variant or compare unconstrained figures).
    ``kwargs`` go to the projector (``start_year``, ``end_year``, ...).
    """
    variants = VARIANTS if variants is None else variants
    frames = []
    for name, spec in variants.items():
        unknown = set(spec) - {"mortality", "migration", "fertility"}
        if unknown:
            raise InputError("variants", f"variant {name!r} has unknown components {sorted(unknown)}")
        result = projector(
            base,
            scale_mortality(mortality, spec.get("mortality", 1.0)),
            scale_fertility(fertility, spec.get("fertility", 1.0)),
            scale_migration(migration, spec.get("migration", 1.0)),
            **kwargs,
        )
        frames.append(result.assign(scenario=name))
    out = pd.concat(frames, ignore_index=True)
    return out[["scenario", *[c for c in out.columns if c != "scenario"]]]


def scenario_range(projection: pd.DataFrame, ages=(65, None), *, principal: str = "principal",
                   value: str = "population") -> pd.DataFrame:
    """The principal projection of an age range and the low-high envelope of the variants, by year.

    ``projection``: :func:`project_scenarios` output (``scenario, [ids,] year, sex, age, population``).
    Returns ``[ids,] ages, year, principal, low, high`` where ``low``/``high`` are the smallest and largest
    of all scenarios (principal included) in that year - the band a fan chart shades.
    """
    from popheal.projection._growth import age_range_totals

    if "scenario" not in projection.columns:
        raise InputError("projection", "needs a scenario column (see project_scenarios)", column="scenario")
    totals = age_range_totals(projection, [ages], value=value)
    ids = [c for c in totals.columns if c not in ("scenario", "ages", "year", "population")]
    keys = [*ids, "ages", "year"]
    if principal not in set(totals["scenario"]):
        raise InputError("projection", f"has no {principal!r} scenario", column="scenario")
    main = totals[totals["scenario"] == principal].set_index(keys)["population"].rename("principal")
    band = totals.groupby(keys)["population"].agg(low="min", high="max")
    return pd.concat([main, band], axis=1).reset_index()
