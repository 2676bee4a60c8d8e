"""Fixtures for the popheal.io tests: the small hand-written files and a checker for InputError messages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from popheal.io.errors import InputError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "io"


@pytest.fixture(scope="session")
def fixtures() -> Path:
    """tests/fixtures/io: small files in each published layout, and bad ones (bad_*.csv)."""
    return FIXTURES


@pytest.fixture
def raises_input_error():
    """Call ``reader(*args)`` and check the InputError names the file, column, rows and rule."""

    def check(reader, *args, file: str, rule: str, column: str | None = None, rows=None, **kwargs):
        with pytest.raises(InputError) as info:
            reader(*args, **kwargs)
        err = info.value
        msg = str(err)
        assert file in msg, msg
        assert re.search(rule, msg, flags=re.IGNORECASE), f"rule {rule!r} not in: {msg}"
        if column is not None:
            assert err.column == column, msg
            assert f"column '{column}'" in msg, msg
        if rows is not None:
            assert err.rows == list(rows), msg
            assert ("rows " if len(rows) > 1 else "row ") + ", ".join(map(str, rows)) in msg, msg
        return err

    return check
