"""Quantiles (methods-vectors.md section 9): PHEindicatormethods phe_quantile."""

from __future__ import annotations

import pandas as pd

from popheal.stats import quantile

AREAS = pd.DataFrame(
    {
        "area": ["E06000057", "E08000023", "E08000024", "E06000005", "E08000022", "E06000047", "E06000004",
                 "E08000037", "E06000003", "E06000002", "E08000021", "E06000001"],
        "value": [118.7460481, 131.2778276, 137.109864, 137.7256526, 138.9005229, 143.263302, 145.5966707,
                  146.6971262, 153.6912833, 155.763081, 157.1222286, 171.2170455],
        "decile": [10, 9, 8, 7, 6, 6, 5, 4, 3, 2, 1, 1],
    }
)  # fmt: skip
TIES = pd.DataFrame(
    {
        "value": [182.71, 175.99, 169.27, 169.27, 155.83, 149.11, 142.39, 135.67, 128.95, 121.4, 108.9, 108.9,
                  101.6],
        "decile": [1, 1, 2, 2, 4, 4, 5, 6, 7, 7, 8, 8, 10],
    }
)  # fmt: skip


def test_section_9_inverted_deciles():
    result = quantile(AREAS, "value")
    assert result["quantile"].tolist() == AREAS["decile"].tolist()
    assert list(result.columns) == [*AREAS.columns, "quantile"]


def test_section_9_ties():
    result = quantile(TIES.sample(frac=1, random_state=4), "value")
    assert result.sort_index()["quantile"].tolist() == TIES["decile"].tolist()


def test_grouped_and_not_inverted():
    both = pd.concat([AREAS.assign(region="R1"), TIES.assign(region="R2")], ignore_index=True)
    result = quantile(both, "value", by="region")
    assert result["quantile"].tolist() == AREAS["decile"].tolist() + TIES["decile"].tolist()
    upright = quantile(AREAS, "value", invert=False)
    # by hand: N = 12, rank r ascending, floor(11 - ceiling((13 - r) / 1.2))
    assert upright["quantile"].tolist() == [1, 1, 2, 3, 4, 5, 6, 6, 7, 8, 9, 10]


def test_too_few_values_or_missing_values_get_no_quantile():
    few = quantile(AREAS.iloc[:5], "value")
    assert few["quantile"].isna().all()
    with_missing = AREAS.copy()
    with_missing.loc[0, "value"] = None
    result = quantile(with_missing, "value", q=5)
    assert pd.isna(result["quantile"].iloc[0])
    assert result["quantile"].iloc[1:].notna().all()
