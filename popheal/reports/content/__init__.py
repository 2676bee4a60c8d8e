"""Section content: the area-wide preparation (once per run) and the per-PCN views each notebook shows.

One module per pack section. Each offers ``prepare(inputs, params) -> (tables, meta)`` (registered in
PREPARERS; tables are aggregates except those named in popheal.reports.prepare.INTERNAL_TABLES) and small
functions the notebook calls to select and shape what it shows.
"""

from __future__ import annotations

PREPARERS: dict = {}
INTERNAL_WRITERS: list = []

from popheal.reports.content import inequalities, population, referrals, risk

PREPARERS["population"] = population.prepare
PREPARERS["risk"] = risk.prepare
PREPARERS["referrals"] = referrals.prepare
PREPARERS["inequalities"] = inequalities.prepare
INTERNAL_WRITERS.append(risk.write_case_finding)
