"""Directly standardised rates (methods-vectors.md sections 6 and 14): PHEindicatormethods calculate_dsr."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from popheal.stats import ESP2013, ESP2013_BANDS, dsr
from popheal.stats._confidence import byars_lower, byars_upper

from ._golden import BANDS, ESP, NA, check_columns, multiarea

PER_10000 = {
    "total_count": [895, 91, 9],
    "total_pop": [8970, 8970, 8970],
    "value": [1043.024799147, 110.32120253, NA],
    "lower95_0cl": [971.7709067986, 87.74557675367, NA],
    "upper95_0cl": [1117.894091548, 136.7088222725, NA],
    "lower99_8cl": [932.328788022, 76.3642035794, NA],
    "upper99_8cl": [1162.059599952, 153.0032894824, NA],
    "statistic": ["dsr per 10000", "dsr per 10000", "dsr NA for total count < 10"],
}
PER_100000 = {
    "value": [10430.24799147, 1103.2120253, NA],
    "lower95_0cl": [9717.709067986, 877.4557675367, NA],
    "upper95_0cl": [11178.94091548, 1367.088222725, NA],
    "lower99_8cl": [9323.28788022, 763.642035794, NA],
    "upper99_8cl": [11620.59599952, 1530.032894824, NA],
    "statistic": ["dsr per 100000", "dsr per 100000", "dsr NA for total count < 10"],
}


def test_esp2013_constant():
    assert list(ESP2013.index) == list(ESP2013_BANDS) == BANDS
    assert ESP2013.tolist() == ESP
    assert ESP2013.sum() == 100000


def test_section_6_per_10000():
    result = dsr(multiarea(), "count", "pop", by="area", confidence=(0.95, 0.998), multiplier=10000)
    check_columns(result, PER_10000, rel=1e-9)
    assert list(result["area"]) == ["testdata_big", "testdata_small", "testdata_tiny"]
    assert (result["method"] == "Dobson").all()
    assert list(result.columns) == ["area", "total_count", "total_pop", "value", "lower95_0cl", "upper95_0cl",
                                    "lower99_8cl", "upper99_8cl", "confidence", "statistic", "method"]  # fmt: skip


def test_section_6_per_100000_joined_by_label_not_row_order():
    shuffled = multiarea().sample(frac=1, random_state=11)
    result = dsr(shuffled, "count", "pop", by="area", confidence=(95, 99.8))
    check_columns(result, PER_100000, rel=1e-9)


def test_standard_population_as_a_column_or_a_mapping_gives_the_same():
    data = multiarea().assign(esp=lambda d: d["age_band"].map(dict(zip(BANDS, ESP))))
    builtin = dsr(data, "count", "pop", by="area")
    column = dsr(data, "count", "pop", stdpop="esp", by="area")
    mapping = dsr(data.rename(columns={"age_band": "band"}), "count", "pop", stdpop=dict(zip(BANDS, ESP)),
                  by="area", age_band="band")  # fmt: skip
    for other in (column, mapping):
        pd.testing.assert_frame_equal(builtin, other)


def test_single_level_columns_and_text():
    result = dsr(multiarea(), "count", "pop", by="area")
    assert list(result.columns) == ["area", "total_count", "total_pop", "value", "lowercl", "uppercl",
                                    "confidence", "statistic", "method"]  # fmt: skip
    assert result["confidence"].iloc[0] == "95%"


def test_no_grouping_is_one_overall_dsr():
    big = multiarea().query("area == 'testdata_big'")
    result = dsr(big, "count", "pop")
    check_columns(result, {"value": [10430.24799147]}, rel=1e-9)
    assert list(result.columns[:2]) == ["total_count", "total_pop"]


def test_missing_or_repeated_band_is_an_error():
    data = multiarea()
    with pytest.raises(ValueError, match="missing or repeated"):
        dsr(data.drop(index=3), "count", "pop", by="area")
    with pytest.raises(ValueError, match="not in the standard"):
        dsr(data.replace({"55-59": "55-69"}), "count", "pop", by="area")


def test_zero_population_gives_missing_not_an_error():
    data = multiarea()
    data.loc[(data["area"] == "testdata_big") & (data["age_band"] == "90+"), "pop"] = 0
    result = dsr(data, "count", "pop", by="area")
    assert math.isnan(result["value"].iloc[0])
    assert result["statistic"].iloc[0] == "dsr NA for zero or missing population"
    assert not math.isnan(result["value"].iloc[1])


def _people_by_frequency(counts):
    """Split events into people with 1, 2 or 3 events (the reference's example: 10% / 20% / 70%)."""
    counts = np.nan_to_num(np.asarray(counts, dtype=float))
    f3 = np.floor(counts * 0.1 / 3)
    f2 = np.floor(counts * 0.2 / 2)
    f1 = counts - 3 * f3 - 2 * f2
    return {1: f1, 2: f2, 3: f3}


def test_non_independent_events_widen_the_limits_around_the_same_value():
    frames = []
    for frequency, people in _people_by_frequency([127, 25, 18, 21, 12, 27, 48, 27, 29, 32, 32, 34, 45, 65, 38,
                                                   68, 74, 82, 91]).items():  # fmt: skip
        frames.append(pd.DataFrame({"age_band": BANDS, "pop": [636, 558, 609, 543, 384, 594, 669, 843, 660, 576,
                                    606, 522, 426, 273, 300, 288, 153, 123, 207], "people": people,
                                    "freq": frequency}))  # fmt: skip
    people = pd.concat(frames, ignore_index=True)
    result = dsr(people, "people", "pop", independent_events=False, eventfreq="freq")
    independent = dsr(multiarea().query("area == 'testdata_big'"), "count", "pop")
    check_columns(result, {"total_count": [895], "total_pop": [8970], "value": [10430.24799147]}, rel=1e-9)
    assert result["lowercl"].iloc[0] < independent["lowercl"].iloc[0]
    assert result["uppercl"].iloc[0] > independent["uppercl"].iloc[0]
    assert result["method"].iloc[0] == "Dobson, with confidence adjusted for non-independent events"

    # the variance by hand: sum over frequencies of f^2 x the Dobson variance of the people with f events
    std = np.asarray(ESP, dtype=float)
    pop = np.asarray(people["pop"].iloc[:19], dtype=float)
    variance = sum(
        f**2 * np.sum(people.loc[people["freq"] == f, "people"].to_numpy() * (std / pop) ** 2) / std.sum() ** 2
        for f in (1, 2, 3)
    )
    total = 895.0
    value = 10430.24799147
    lower = value + math.sqrt(variance / total) * (byars_lower(total, 0.95) - total) * 100000
    upper = value + math.sqrt(variance / total) * (byars_upper(total, 0.95) - total) * 100000
    check_columns(result, {"lowercl": [lower], "uppercl": [upper]}, rel=1e-9)


def test_non_independent_with_everyone_one_event_equals_independent():
    data = multiarea().assign(freq=1)
    result = dsr(data, "count", "pop", by="area", independent_events=False, eventfreq="freq")
    independent = dsr(data, "count", "pop", by="area")
    cols = ["total_count", "total_pop", "value", "lowercl", "uppercl"]
    pd.testing.assert_frame_equal(result[cols], independent[cols])


def test_non_independent_needs_eventfreq():
    with pytest.raises(ValueError, match="eventfreq"):
        dsr(multiarea(), "count", "pop", by="area", independent_events=False)


def test_negative_count_is_an_error():
    data = multiarea()
    data.loc[0, "count"] = -1
    with pytest.raises(ValueError, match="zero or more"):
        dsr(data, "count", "pop", by="area")
