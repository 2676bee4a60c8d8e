"""The run's shared preparation: cached once per run, and patient-level tables kept from notebooks."""

from __future__ import annotations

import pytest

from popheal.reports.prepare import INTERNAL_TABLES, prepare_area


def test_patient_level_tables_are_not_given_to_notebooks(tiny_area):
    prep = prepare_area(tiny_area, progress=False)
    for name in INTERNAL_TABLES:
        with pytest.raises(KeyError, match="patient-level"):
            prep[name]
        assert len(prep.internal(name)) > 0
    assert "risk_pyramid_pcn" in prep.names()


def test_preparation_is_cached_by_inputs_parameters_and_code(tiny_area):
    first = prepare_area(tiny_area, progress=False)
    again = prepare_area(tiny_area, progress=False)
    assert again is first  # same key: loaded once per process
    assert first.folder is not None and (first.folder / "complete.json").is_file()
    assert first.key in str(first.folder)
