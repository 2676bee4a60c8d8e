"""popheal.disclosure.apply: suppression, rounding, rates, protected figures, secondary suppression.

Expected values are the published rules worked by hand: NHS Digital HES/ECDS disclosure control (2018) and
OpenSAFELY SDC (redact 1-7, round to the nearest 5; ehrQL's own boundary test: 6 -> 0, 7 -> 0, 8 -> 10).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from popheal import disclosure
from popheal.disclosure import FLAG_SUFFIX, apply

# ---------------------------------------------------------------------------------------------- unit tests


@pytest.mark.parametrize(
    ("count", "shown"),
    [(0, 0), (1, None), (2, None), (6, None), (7, None), (8, 10), (12, 10), (13, 15), (17, 15), (18, 20),
     (100, 100), (102, 100), (103, 105), (12_347, 12_345)],
)
def test_boundaries_default_rules(count, shown):
    out = apply(pd.DataFrame({"n": [count]}), "n").data
    if shown is None:
        assert np.isnan(out.loc[0, "n"]) and out.loc[0, "n" + FLAG_SUFFIX]
    else:
        assert out.loc[0, "n"] == shown and not out.loc[0, "n" + FLAG_SUFFIX]


@pytest.mark.parametrize(("count", "shown"), [(10, None), (11, 10), (14, 10), (15, 20), (0, 0)])
def test_boundaries_area_rules(count, shown):
    out = apply(pd.DataFrame({"n": [count]}), "n", threshold=10, base=10).data
    assert (np.isnan(out.loc[0, "n"]) if shown is None else out.loc[0, "n"] == shown)


def test_output_shape_and_flags_follow_their_columns():
    table = pd.DataFrame({"area": ["a", "b"], "n": [3, 40], "pop": [1000, 1000]})
    result = apply(table, "n", rates={"pct": ("n", "pop", 100)})
    assert list(result.data.columns) == ["area", "n", "n_suppressed", "pop", "pct", "pct_suppressed"]
    assert result.data["n_suppressed"].dtype == bool
    assert result.suppressed.to_dict("list") == {"n": [True, False], "pct": [True, False]}
    assert result.data.attrs["disclosure"]["threshold"] == 7


def test_input_is_not_mutated():
    table = pd.DataFrame({"g": ["a", "b", "c"], "n": [3, 12, 40], "d": [50, 60, 70]})
    before = table.copy()
    apply(table, ["n", "d"], rates={"r": ("n", "d", 100)}, totals=[()])
    pd.testing.assert_frame_equal(table, before)


def test_rates_are_recomputed_from_rounded_counts():
    table = pd.DataFrame({"n": [13, 12, 3, 0], "reg": [1002, 998, 1000, 0], "list_size": [1002, 998, 1000, 0]})
    out = apply(table, ["n", "reg"], rates={"pct": ("n", "reg", 100), "per_list": ("n", "list_size", 1000)}).data
    # 13 -> 15 and 1002 -> 1000: 1.5%, not 13/1002 = 1.297%
    assert out["pct"].tolist()[:2] == pytest.approx([1.5, 1.0])
    # a denominator that is not a count is used as given (a published list size)
    assert out.loc[0, "per_list"] == pytest.approx(15 / 1002 * 1000)
    # suppressed with the numerator; a zero denominator is undefined, not suppressed
    assert np.isnan(out.loc[2, "pct"]) and out.loc[2, "pct_suppressed"]
    assert np.isnan(out.loc[3, "pct"]) and not out.loc[3, "pct_suppressed"]


def test_rate_suppressed_with_its_denominator():
    out = apply(pd.DataFrame({"n": [0], "d": [5]}), ["n", "d"], rates={"r": ("n", "d", 100)}).data
    assert out.loc[0, "r_suppressed"] and np.isnan(out.loc[0, "r"])


def test_standardised_figures_kept_unrounded_and_suppressed_with_small_numerators():
    table = pd.DataFrame({
        "observed": [50, 5, 7, 8, 0],
        "expected": [41.3, 6.2, 5.5, 9.9, 2.1],
        "ratio": [1.2107, 0.806, 1.2727, 0.8081, 0.0],
        "lowercl": [0.899, 0.262, 0.512, 0.349, 0.0],
        "uppercl": [1.596, 1.882, 2.622, 1.592, 1.757],
    })
    protect = dict.fromkeys(["ratio", "lowercl", "uppercl"], "observed")
    out = apply(table, "observed", protect=protect).data
    assert out.loc[0, "ratio"] == 1.2107 and out.loc[3, "uppercl"] == 1.592  # not rounded
    for row in (1, 2):  # numerators 5 and 7: suppressed
        assert out.loc[row, ["ratio", "lowercl", "uppercl"]].isna().all()
        assert out.loc[row, ["ratio_suppressed", "lowercl_suppressed", "uppercl_suppressed"]].all()
    assert out.loc[4, "ratio"] == 0.0  # a zero numerator is shown, as zero counts are
    assert out["expected"].tolist() == table["expected"].tolist()  # untouched column


def test_protected_figures_follow_secondary_suppression_of_their_numerator():
    # observed 3 is suppressed; the grand total makes 40 (the next smallest) suppressed too, and its ratio with
    # it: otherwise ratio x expected would give 40 back, then 3 by subtraction.
    table = pd.DataFrame({"observed": [3, 40, 90], "expected": [5.0, 35.0, 95.0]})
    table["ratio"] = table["observed"] / table["expected"]
    result = apply(table, "observed", totals=[()], protect={"ratio": "observed"})
    assert result.data["observed_suppressed"].tolist() == [True, True, False]
    assert result.data["ratio_suppressed"].tolist() == [True, True, False]
    assert result.secondary["observed"].tolist() == [False, True, False]


def test_protected_numerator_that_is_not_a_count_column():
    table = pd.DataFrame({"n": [100, 100], "total_count": [6, 9], "value": [12.5, 18.1]})
    out = apply(table, "n", protect={"value": "total_count"}).data
    assert np.isnan(out.loc[0, "value"]) and out.loc[1, "value"] == 18.1


def test_counts_accept_whole_floats_and_nullable_ints():
    table = pd.DataFrame({"a": [8.0, 0.0], "b": pd.array([13, 2], dtype="Int64")})
    out = apply(table, ["a", "b"]).data
    assert out["a"].tolist() == [10, 0] and out.loc[0, "b"] == 15 and np.isnan(out.loc[1, "b"])


@pytest.mark.parametrize(
    ("values", "expected"),
    [([0, -1, 4], r"'n'.*1 \(-1"), ([1, 2.5, 4], r"'n'.*1 \(2.5"), ([1, None, 4], r"'n'.*1 \(nan"),
     (["1", "x", "2"], r"'n'.*1 \(x"), ([True, False, True], r"'n'.*True/False"), ([np.inf, 1, 2], r"'n'.*0 \(inf")],
)
def test_bad_counts_name_the_column_and_first_rows(values, expected):
    with pytest.raises(ValueError, match=expected):
        apply(pd.DataFrame({"n": values}), "n")


def test_bad_counts_report_index_labels():
    table = pd.DataFrame({"n": [5, -2, -3]}, index=["DEM001", "DEM002", "DEM003"])
    with pytest.raises(ValueError, match=r"2 row\(s\).*'DEM002' \(-2\), 'DEM003' \(-3\)"):
        apply(table, "n")


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"counts": "missing"}, "not found"),
        ({"counts": []}, "at least one"),
        ({"counts": "n", "rates": {"r": ("d", "n", 100)}}, "numerator"),
        ({"counts": "n", "rates": {"r": ("n", "d")}}, "numerator, denominator, multiplier"),
        ({"counts": "n", "rates": {"r": ("n", "d", 0)}}, "multiplier"),
        ({"counts": "n", "rates": {"r": ("n", "label", 100)}}, "numeric"),
        ({"counts": "n", "protect": {"n": "n"}}, "named twice"),
        ({"counts": "n", "threshold": -1}, "threshold"),
        ({"counts": "n", "base": 0}, "base"),
        ({"counts": "n", "threshold": 7.5}, "threshold"),
        ({"counts": "n", "totals": ["nope"]}, "lacks"),
        ({"counts": ["n", "d"], "totals": [("label", "n")]}, "not both"),
    ],
)
def test_bad_arguments(kwargs, expected):
    table = pd.DataFrame({"label": ["a", "b"], "n": [1, 2], "d": [10, 20]})
    with pytest.raises(ValueError, match=expected):
        apply(table, **kwargs)


def test_already_disclosed_table_is_refused():
    once = apply(pd.DataFrame({"n": [10, 20]}), "n").data
    with pytest.raises(ValueError, match="already has flag"):
        apply(once, "n")


def test_not_a_dataframe():
    with pytest.raises(TypeError):
        apply([1, 2, 3], "n")


def test_secondary_suppression_one_dimension():
    # grand total shown: 3 is suppressed, so the next smallest (20) must go too; 0 is never preferred.
    result = apply(pd.DataFrame({"n": [3, 0, 20, 30]}), "n", totals=[()])
    assert result.data["n_suppressed"].tolist() == [True, False, True, False]
    assert result.data["n"].tolist()[1::2] == [0, 30]
    assert "worked out from a total" in result.footnote


def test_no_secondary_suppression_when_the_total_is_itself_small():
    # the total (5) is 1..7, so it is suppressed wherever it is shown: nothing else needs hiding
    result = apply(pd.DataFrame({"n": [3, 0, 2]}), "n", totals=[()])
    assert result.data["n_suppressed"].tolist() == [True, False, True]
    result = apply(pd.DataFrame({"n": [3, 0, 0]}), "n", totals=[()])
    assert result.data["n_suppressed"].tolist() == [True, False, False]


def test_secondary_suppression_two_dimensions_by_hand():
    table = pd.DataFrame({
        "practice": list("ABCD") * 2,
        "sex": ["F"] * 4 + ["M"] * 4,
        "n": [0, 1, 7, 8, 12, 13, 100, 3],
    })
    result = apply(table, "n", totals=["practice", "sex"])
    # B and C hold one small cell each (F), D one (M): each column needs a second cell, forced by the layout
    assert result.data["n_suppressed"].tolist() == [False, True, True, True, False, True, True, True]
    assert result.data.loc[[0, 4], "n"].tolist() == [0, 10]


def test_wide_table_row_totals_across_count_columns():
    table = pd.DataFrame({"band": ["0-17", "18-64"], "female": [4, 120], "male": [30, 118]})
    result = apply(table, ["female", "male"], totals=[("female", "male")])
    assert result.data.loc[0, ["female_suppressed", "male_suppressed"]].tolist() == [True, True]
    assert result.data.loc[1, ["female", "male"]].tolist() == [120, 120]


def test_chained_subtraction_across_dimensions_is_closed():
    """Two 2x2 blocks of small cells joined by one small cell: every row and column holds two suppressed cells,
    yet with exact margins the joining cell (a bridge) is determined. The rank check must hide more."""
    values = np.full((4, 4), 50)
    small = [(0, 0), (0, 1), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3), (1, 2)]
    for k, (i, j) in enumerate(small):
        values[i, j] = 1 + k % 7
    table = _grid(values)
    groups = _groups(table, [("r",), ("c",)])
    primary = (table["n"] >= 1) & (table["n"] <= 7)
    assert primary.sum() == len(small)
    assert _pinned_cells(table["n"].to_numpy(), primary.to_numpy(), groups)  # the bridge is derivable
    result = apply(table, "n", totals=["r", "c"])
    suppressed = result.data["n_suppressed"].to_numpy()
    assert suppressed.sum() > len(small)
    assert not _pinned_cells(table["n"].to_numpy(), suppressed, groups)


def test_rounded_totals_leave_a_hidden_cell_several_values():
    """What "cannot be recovered" means with rounded figures. Group [1, 8, 50], total 59: 1 is suppressed,
    8 with it. A reader sees 50 (truth 48..52) and a total of 60 (truth 58..62). Even knowing the rules (the
    primary cell is 1..7, the secondary one >= 8), the primary cell keeps several possible values (without
    rounding, 59 - 50 = 9 = 1 + 8 would pin it at 1)."""
    result = apply(pd.DataFrame({"n": [1, 8, 50]}), "n", totals=[()])
    assert result.data["n_suppressed"].tolist() == [True, True, False]
    shown_cell, shown_total = int(result.data.loc[2, "n"]), disclosure.round_to_base(59)
    possible = {
        a for a, b, c in itertools.product(range(1, 8), range(8, 30), range(40, 61))
        if disclosure.round_to_base(c) == shown_cell and disclosure.round_to_base(a + b + c) == shown_total
    }
    assert possible == {1, 2, 3, 4, 5, 6}  # 7 would need a total of 63+, shown as 65


def test_html_marks_suppressed_cells_and_counts():
    table = pd.DataFrame({"practice": ["DEM001", "DEM002"], "n": [3, 1234], "pct": [0.1, 0.2], "pop": [3000, 900]})
    page = apply(table, ["n"], rates={"pct": ("n", "pop", 100)}).to_html(caption="Cap & more", source="Synthetic")
    assert "<caption>Cap &amp; more</caption>" in page
    assert '<th scope="col" class="num" data-count="true">n</th>' in page
    assert ">*</td>" in page and "1,235" in page and "3,000" in page
    assert '<th scope="row">DEM001</th>' in page
    assert "* fewer than 8 (1 to 7)" in page and "rounded to the nearest 5" in page
    assert "Source: Synthetic" in page and "n_suppressed" not in page


def test_html_labels_and_decimals():
    table = pd.DataFrame({"area": ["a"], "n": [40], "ratio": [1.23456], "pct": [12.345]})
    page = apply(table, "n").to_html(labels={"n": "Patients"}, decimals={"ratio": 2})
    assert ">Patients</th>" in page and ">1.23</td>" in page and ">12.3</td>" in page


def test_empty_table_and_repeated_index_labels():
    empty = apply(pd.DataFrame({"g": pd.Series([], dtype=str), "n": pd.Series([], dtype=int)}), "n",
                  totals=["g", ()])
    assert list(empty.data.columns) == ["g", "n", "n_suppressed"] and empty.data.empty
    table = pd.DataFrame({"n": [3, 50, 60], "v": [1.0, 2.0, 3.0]}, index=[5, 5, 5])
    out = apply(table, "n", totals=[()], protect={"v": "n"}).data
    assert out["n_suppressed"].tolist() == [True, True, False] and out["v"].isna().tolist() == [True, True, False]


def test_footnote_follows_the_rules():
    assert disclosure.footnote(10, 10).startswith("* fewer than 11 (1 to 10)")
    assert "nearest 10" in disclosure.footnote(10, 10)
    assert disclosure.footnote(0, 1) == "Counts are shown unrounded."


# ----------------------------------------------------------------------------------------- property tests

cell_values = st.one_of(st.just(0), st.integers(1, 7), st.integers(8, 60), st.integers(61, 5000))


@settings(max_examples=200, deadline=None)
@given(values=st.lists(cell_values, min_size=1, max_size=40), threshold=st.integers(0, 10),
       base=st.integers(1, 10))
def test_property_primary_rules(values, threshold, base):
    result = apply(pd.DataFrame({"n": values}), "n", threshold=threshold, base=base)
    shown = result.data["n"].to_numpy()
    flags = result.data["n_suppressed"].to_numpy()
    truth = np.array(values)
    assert np.array_equal(flags, (truth >= 1) & (truth <= threshold))
    visible = shown[~flags]
    assert np.all(visible % base == 0)
    assert np.all(np.abs(visible - truth[~flags]) <= base / 2)
    assert np.all(shown[truth == 0] == 0)
    # Nothing from 1..threshold is visible when the smallest shown count rounds above the threshold, as with
    # the default rules (8 -> 10); with e.g. threshold 10 and base 10, 11 is shown as 10 by design.
    if disclosure.round_to_base(threshold + 1, base) > threshold:
        assert not np.any((visible >= 1) & (visible <= threshold))


@settings(max_examples=200, deadline=None)
@given(values=st.lists(cell_values, min_size=1, max_size=40))
def test_property_default_rules_show_no_small_count(values):
    shown = apply(pd.DataFrame({"n": values}), "n").data["n"].dropna().to_numpy()
    assert not np.any((shown >= 1) & (shown <= 7)) and np.all(shown % 5 == 0)


def _grid(values: np.ndarray) -> pd.DataFrame:
    rows, cols = values.shape
    return pd.DataFrame({
        "r": np.repeat(np.arange(rows), cols),
        "c": np.tile(np.arange(cols), rows),
        "n": values.ravel(),
    })


def _groups(table: pd.DataFrame, by: list[tuple[str, ...]]) -> list[np.ndarray]:
    """Positions of the rows in each group with a shown total (independent of popheal's own grouping)."""
    out = []
    for keys in by:
        if keys:
            out.extend(np.asarray(v) for v in table.groupby(list(keys)).indices.values())
        else:
            out.append(np.arange(len(table)))
    return out


def _check_no_group_reveals_one_cell(values, suppressed, groups, threshold=7):
    """The brute-force rule: in every group of 2+ cells whose total is shown, 0 or 2+ suppressed cells."""
    for g in groups:
        total = values[g].sum()
        if len(g) < 2 or 1 <= total <= threshold:  # a single-cell group, or a total that is itself suppressed
            continue
        assert suppressed[g].sum() != 1, (values[g], suppressed[g])


def _pinned_cells(values, suppressed, groups, threshold=7):
    """Suppressed cells whose value the exact totals fix (LP: min == max subject to the totals and x >= 0).
    For two-way tables the constraint matrix is totally unimodular, so the LP bounds are integer bounds."""
    cells = np.flatnonzero(suppressed)
    shown = [g for g in groups if len(g) >= 2 and not 1 <= values[g].sum() <= threshold and suppressed[g].any()]
    if not len(cells) or not shown:
        return []
    column = {c: k for k, c in enumerate(cells)}
    a = np.zeros((len(shown), len(cells)))
    b = np.zeros(len(shown))
    for i, g in enumerate(shown):
        for c in g[suppressed[g]]:
            a[i, column[c]] = 1
        b[i] = values[g][suppressed[g]].sum()
    pinned = []
    for k, cell in enumerate(cells):
        objective = np.zeros(len(cells))
        objective[k] = 1
        low = linprog(objective, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
        high = linprog(-objective, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
        if high.status == 3:  # unbounded above: not pinned
            continue
        if -high.fun - low.fun < 0.5:
            pinned.append(int(cell))
    return pinned


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), rows=st.integers(2, 5), cols=st.integers(2, 5), grand=st.booleans())
def test_property_two_way_table_with_margins(data, rows, cols, grand):
    values = np.array(data.draw(st.lists(cell_values, min_size=rows * cols, max_size=rows * cols))).reshape(rows,
                                                                                                           cols)
    table = _grid(values)
    by = [("r",), ("c",)] + ([()] if grand else [])
    result = apply(table, "n", totals=["r", "c"] + ([()] if grand else []))
    suppressed = result.data["n_suppressed"].to_numpy()
    truth = table["n"].to_numpy()
    assert np.all(suppressed[(truth >= 1) & (truth <= 7)])
    shown = result.data["n"].to_numpy()[~suppressed]
    assert not np.any((shown >= 1) & (shown <= 7)) and np.all(shown % 5 == 0)
    groups = _groups(table, by)
    _check_no_group_reveals_one_cell(truth, suppressed, groups)
    if not np.any(suppressed & (truth == 0)):  # zeros hidden as a last resort can be pinned by x >= 0
        assert _pinned_cells(truth, suppressed, groups) == []


@settings(max_examples=80, deadline=None)
@given(data=st.data(), shape=st.tuples(st.integers(2, 3), st.integers(2, 3), st.integers(2, 3)))
def test_property_three_way_table_with_two_way_margins(data, shape):
    size = int(np.prod(shape))
    values = data.draw(st.lists(cell_values, min_size=size, max_size=size))
    index = pd.MultiIndex.from_product([range(k) for k in shape], names=["a", "b", "c"])
    table = pd.DataFrame({"n": values}, index=index).reset_index()
    by = [("a", "b"), ("a", "c"), ("b", "c"), ("a",)]
    result = apply(table, "n", totals=by)
    _check_no_group_reveals_one_cell(table["n"].to_numpy(), result.data["n_suppressed"].to_numpy(),
                                     _groups(table, by))


@settings(max_examples=80, deadline=None)
@given(data=st.data(), rows=st.integers(1, 6))
def test_property_wide_table_with_row_and_column_totals(data, rows):
    values = np.array(data.draw(st.lists(cell_values, min_size=rows * 3, max_size=rows * 3))).reshape(rows, 3)
    table = pd.DataFrame(values, columns=["x", "y", "z"]).assign(label=[f"g{i}" for i in range(rows)])
    result = apply(table, ["x", "y", "z"], totals=[("x", "y", "z"), ()])
    flags = result.data[["x_suppressed", "y_suppressed", "z_suppressed"]].to_numpy()
    for cells, hidden in itertools.chain(zip(values, flags), zip(values.T, flags.T)):
        if len(cells) >= 2 and not 1 <= cells.sum() <= 7:
            assert hidden.sum() != 1


def test_a_zero_over_a_suppressed_denominator_is_suppressed_too():
    """'0 of a hidden 1-7' would tell that none of a handful of people has the attribute."""
    t = pd.DataFrame({"group": ["small", "large"], "num": [0, 20], "den": [3, 200]})
    out = disclosure.apply(t, ["num", "den"], rates={"pct": ("num", "den", 100)}).data
    assert out["num_suppressed"].tolist() == [True, False]
    assert pd.isna(out.loc[0, "num"]) and out.loc[1, "num"] == 20 and out.loc[1, "pct"] == 10


def test_denominator_rule_follows_chains_and_plain_parts():
    """x is part of y, y part of z: a z of 1-7 hides y and then x, whatever the order of the rules."""
    t = pd.DataFrame({"x": [0, 30], "y": [0, 300], "z": [5, 3000]})
    out = disclosure.apply(t, ["x", "y", "z"], rates={"xy": ("x", "y", 1), "yz": ("y", "z", 1)}).data
    assert out[["x_suppressed", "y_suppressed", "z_suppressed"]].iloc[0].tolist() == [True, True, True]
    plain = disclosure.apply(t, ["x", "z"], denominators={"x": "z"}).data
    assert plain["x_suppressed"].tolist() == [True, False]
