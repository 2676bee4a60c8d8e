"""The public surface of popheal.stats: names, signatures from the issue, citations, no upward imports."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import popheal.stats as ps

PACKAGE = Path(ps.__file__).parent

SIGNATURES = {
    "proportion": ["df", "x", "n", "by=None", "confidence=0.95", "multiplier=1"],
    "rate": ["df", "x", "n", "by=None", "confidence=0.95", "multiplier=100000"],
    "mean": ["df", "value", "by=None", "confidence=0.95"],
    "dsr": ["df", "x", "n", "stdpop='esp2013'", "by=None", "confidence=0.95", "multiplier=100000",
            "independent_events=True", "eventfreq=None", "age_band='age_band'"],
    "isr": ["df", "x", "n", "ref_x", "ref_n", "by=None", "confidence=0.95", "kind='ratio'", "multiplier=1",
            "age_band='age_band'"],
    "life_expectancy": ["df", "deaths", "pop", "startage", "by=None", "confidence=0.95", "le_age='all'"],
    "quantile": ["df", "value", "by=None", "q=10", "invert=True"],
    "sii": ["df", "quantile", "population", "value", "lower=None", "upper=None", "se=None", "value_type=0",
            "transform=False", "confidence=0.95", "multiplier=1", "repetitions=100000", "rii=False",
            "intercept=False", "seed=None", "by=None"],
    "funnel_limits": ["df", "numerator", "denominator", "statistic='proportion'", "multiplier=1", "rate=None",
                      "rate_type=None", "years_of_data=None", "by=None"],
    "funnel_significance": ["df", "numerator", "denominator", "statistic='proportion'", "multiplier=1",
                            "rate=None", "rate_type=None", "years_of_data=None", "by=None"],
    "overdispersion": ["df", "numerator", "denominator", "method='SHMI'", "target=1", "trim=0.1", "group=None",
                       "by=None"],
    "xmr": ["series", "screen_outliers=True", "improvement=None", "fix_after_n_points=None"],
}  # fmt: skip

CITATIONS = {
    "proportion": "Wilson",
    "rate": "Breslow",
    "mean": "Student",
    "dsr": "Dobson",
    "isr": "Breslow",
    "life_expectancy": "Silcocks",
    "quantile": "OHID",
    "sii": "Low A",
    "funnel_limits": "Spiegelhalter",
    "funnel_significance": "Spiegelhalter",
    "overdispersion": "FunnelPlotR",
    "xmr": "NHSRplotthedots",
    "spc_icons": "Making Data Count",
}


def _signature(function):
    out = []
    for p in inspect.signature(function).parameters.values():
        out.append(p.name if p.default is inspect.Parameter.empty else f"{p.name}={p.default!r}")
    return out


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_signatures_follow_the_issue(name):
    assert _signature(getattr(ps, name)) == SIGNATURES[name]


@pytest.mark.parametrize("name", sorted(CITATIONS))
def test_docstrings_cite_the_method(name):
    doc = getattr(ps, name).__doc__
    assert doc and CITATIONS[name] in doc


def test_all_is_explicit_and_importable():
    assert len(set(ps.__all__)) == len(ps.__all__)
    for name in ps.__all__:
        assert hasattr(ps, name)


def test_stats_imports_nothing_else_from_popheal():
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert node.level <= 1, f"{path.name} imports from a parent package"
                assert not (node.module or "").startswith("popheal"), f"{path.name} imports {node.module}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    assert not alias.name.startswith("popheal"), f"{path.name} imports {alias.name}"
