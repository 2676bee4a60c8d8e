"""The real Wolverhampton PCN activity dataset, Q3 2019/20 (data/raw/wolverhampton_pcn_activity_2019q3).

Totals are checked against the tables in ../shared/reference/seed-facts.md (Wolverhampton CCG Primary Care
quarterly assurance report Q3 2019/20; list sizes from the CCG's primary care strategy 2019-20).
"""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from popheal.io.activity import (
    ACTIVITY_FOLDER,
    SOCIAL_PRESCRIBING_CAPACITY,
    read_basket_services,
    read_pcn_activity,
    read_social_prescribing,
)
from popheal.io.errors import InputError
from popheal.paths import raw_dir


@pytest.fixture(scope="module")
def activity():
    return read_pcn_activity()


def test_list_sizes_equal_seed_facts(activity):
    sizes = activity.list_sizes.set_index("pcn_short_name")
    assert sizes["registered_patients"].to_dict() == {
        "WNN": 52_584, "Unity East": 32_867, "WSEC": 56_933, "RWT": 55_516, "Unity West": 38_197, "WTH": 56_321,
    }
    assert sizes["practices"].to_dict() == {"WNN": 7, "Unity East": 8, "WSEC": 7, "RWT": 8, "Unity West": 5,
                                            "WTH": 6}
    assert sizes.loc["WTH", "pcn_name"] == "Wolverhampton Total Health"
    assert activity.list_sizes["registered_patients"].dtype == "int64"


def test_social_prescribing_totals(activity):
    sp = activity.social_prescribing
    assert list(sp.columns) == ["pcn_short_name", "pcn_name", "month", "referrals"]
    assert pd.api.types.is_datetime64_any_dtype(sp["month"])
    wth = sp[sp["pcn_short_name"] == "WTH"].sort_values("month")["referrals"].tolist()
    assert wth == [25, 34, 20] and sum(wth) == 79
    quarter = sp.groupby("pcn_short_name")["referrals"].sum().to_dict()
    assert quarter == {"WTH": 79, "RWT": 42, "WSEC": 32, "WNN": 26, "Unity East": 19, "Unity West": 15}
    october = sp[sp["month"] == pd.Timestamp("2019-10-01")]["referrals"].sum()
    assert october == 25 + 9 + 12 + 8 + 2 + 7
    assert SOCIAL_PRESCRIBING_CAPACITY * 6 == 120  # 20 per PCN per month, 120 in all


def test_basket_services_totals(activity):
    b = activity.basket_services
    assert len(b) == 14 * 6
    table = b.pivot(index="service", columns="pcn_short_name", values="procedures")
    assert table.loc["Dressing changes, simple"].tolist() == [982, 795, 924, 1026, 1524, 848]
    assert table.loc["Minor injuries", "Unity East"] == 471
    assert table.loc["Epoetin injection"].sum() == 1
    assert table["RWT"].sum() == 294 + 37 + 310 + 982 + 73 + 307 + 72 + 75 + 269 + 2 + 0 + 54 + 26 + 283


def test_advice_guidance_totals(activity):
    ag = activity.advice_guidance
    assert ag.groupby("specialty")["requests"].sum()["Haematology"] == 19 + 14 + 12
    assert ag["requests"].sum() == 113
    assert ag[ag["specialty"] == "Elderly care"]["requests"].sum() == 0
    assert ag["specialty"].nunique() == 12 and ag["month"].nunique() == 3


def test_readme_cites_the_source():
    text = (raw_dir() / ACTIVITY_FOLDER / "README.md").read_text(encoding="utf-8")
    assert "Primary Care quarterly assurance report" in text and "seed-facts.md" in text


@pytest.fixture
def copy(tmp_path):
    folder = tmp_path / "activity"
    shutil.copytree(raw_dir() / ACTIVITY_FOLDER, folder)
    return folder


def _edit(path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_negative_count_is_an_error(copy):
    _edit(copy / "social_prescribing.csv", "2019-11,34", "2019-11,-34")
    with pytest.raises(InputError, match="must not be negative") as info:
        read_social_prescribing(copy / "social_prescribing.csv")
    assert info.value.column == "referrals" and info.value.rows == [2]


def test_malformed_month_is_an_error(copy):
    _edit(copy / "social_prescribing.csv", "2019-10,25", "Oct 2019,25")
    with pytest.raises(InputError, match="malformed month"):
        read_social_prescribing(copy / "social_prescribing.csv")


def test_duplicated_row_is_an_error(copy):
    path = copy / "basket_services.csv"
    path.write_text(path.read_text(encoding="utf-8") + "Pre-op check,RWT,1\n", encoding="utf-8")
    with pytest.raises(InputError, match="duplicated service and PCN"):
        read_basket_services(path)


def test_unknown_pcn_is_an_error(copy):
    _edit(copy / "basket_services.csv", "Pre-op check,WTH,10", "Pre-op check,Tettenhall,10")
    with pytest.raises(InputError, match="'Tettenhall' is not in pcn_list_sizes.csv"):
        read_pcn_activity(copy)


def test_missing_month_is_an_error(copy):
    path = copy / "social_prescribing.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(line for line in lines if "RWT" not in line or "2019-12" not in line),
                    encoding="utf-8")
    with pytest.raises(InputError, match="each PCN and month must have a row"):
        read_pcn_activity(copy)


def test_missing_column_is_an_error(copy):
    _edit(copy / "advice_guidance.csv", "specialty,month,requests", "specialty,month,count")
    with pytest.raises(InputError, match="required column is missing"):
        read_pcn_activity(copy)
