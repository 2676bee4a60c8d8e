"""Area YAML validation: each rejection names the key and the file, before any kernel starts."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from popheal import params as P
from popheal.io.errors import InputError

DEMO = Path(__file__).resolve().parents[1] / "params" / "wolverhampton.yaml"


@pytest.fixture()
def demo_doc() -> dict:
    return yaml.safe_load(DEMO.read_text(encoding="utf-8"))


def write(tmp_path: Path, doc: dict) -> Path:
    path = tmp_path / "area.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def rejected(tmp_path, doc, key_fragment: str, rule_fragment: str):
    path = write(tmp_path, doc)
    with pytest.raises(InputError) as info:
        P.load(path)
    msg = str(info.value)
    assert "area.yaml" in msg, msg
    assert key_fragment in msg, msg
    assert rule_fragment in msg, msg
    return msg


def test_demo_area_loads_with_seed_facts():
    area = P.load(DEMO)
    assert area.area.code == "E08000031" and area.area.synthetic
    assert [p.code for p in area.pcns] == [f"DEMPCN{i}" for i in range(1, 7)]
    # seed-facts.md: 2019 registered list sizes and practice counts per PCN
    assert [p.list_size for p in area.pcns] == [52584, 32867, 56933, 55516, 38197, 56321]
    assert [len(p.practices) for p in area.pcns] == [7, 8, 7, 8, 5, 6]
    assert area.pcn("DEMPCN3").practices[-1].name == "South East practice 7"
    assert [p.code for p in area.practices] == [f"DEM{i:03d}" for i in range(1, 42)]
    assert area.disclosure.threshold == 7 and area.disclosure.base == 5
    assert area.risk.tier_cuts == (0.005, 0.05, 0.20)
    assert area.area_relpath == "params/wolverhampton.yaml"


def test_unknown_key_rejected(tmp_path, demo_doc):
    demo_doc["disclosure"]["treshold"] = 7
    rejected(tmp_path, demo_doc, "disclosure", "unknown key")


def test_unknown_top_level_key_rejected(tmp_path, demo_doc):
    demo_doc["pcn"] = []
    rejected(tmp_path, demo_doc, "(top level)", "unknown key")


def test_wrong_type_rejected(tmp_path, demo_doc):
    demo_doc["seed"] = "twelve"
    rejected(tmp_path, demo_doc, "'seed'", "whole number")
    demo_doc["seed"] = 1
    demo_doc["disclosure"]["threshold"] = True
    rejected(tmp_path, demo_doc, "disclosure.threshold", "boolean")


def test_duplicate_practice_code_rejected(tmp_path, demo_doc):
    demo_doc["pcns"][1]["practices"][0]["code"] = "DEM001"
    rejected(tmp_path, demo_doc, "pcns[1].practices[0].code", "duplicate code 'DEM001'")


def test_duplicate_pcn_code_rejected(tmp_path, demo_doc):
    demo_doc["pcns"][1]["code"] = "DEMPCN1"
    rejected(tmp_path, demo_doc, "pcns[1].code", "duplicate")


def test_pcn_list_size_must_match_practices(tmp_path, demo_doc):
    doc = copy.deepcopy(demo_doc)
    for i, pr in enumerate(doc["pcns"][4]["practices"]):
        pr["list_size"] = 7000 + i
    rejected(tmp_path, doc, "pcns[4].list_size", "sum to 35,010")


def test_missing_required_key(tmp_path, demo_doc):
    del demo_doc["period"]["base_year"]
    rejected(tmp_path, demo_doc, "period", "missing required key")


@pytest.mark.parametrize("bad", ["DEM/01", "DEM 01", "dem001", "DEM'01", "DEM001\n", "../x"])
def test_unsafe_codes_rejected(tmp_path, demo_doc, bad):
    demo_doc["pcns"][0]["practices"][0]["code"] = bad
    rejected(tmp_path, demo_doc, "pcns[0].practices[0].code", "not a valid code")


def test_newline_in_name_rejected(tmp_path, demo_doc):
    demo_doc["pcns"][0]["name"] = "North\nNetwork"
    rejected(tmp_path, demo_doc, "pcns[0].name", "one line")


def test_quotes_in_names_are_inert_data(tmp_path, demo_doc):
    demo_doc["pcns"][0]["name"] = "O'Neill \"Health\" Network"
    area = P.load(write(tmp_path, demo_doc))
    assert area.pcns[0].name == "O'Neill \"Health\" Network"


def test_yaml_tags_are_never_executed(tmp_path):
    path = tmp_path / "area.yaml"
    path.write_text("area: !!python/object/apply:os.system ['echo pwned']\n", encoding="utf-8")
    with pytest.raises(InputError, match="not valid YAML"):
        P.load(path)


def test_unknown_pcn_selection_rejected():
    area = P.load(DEMO)
    assert [p.code for p in area.select(["DEMPCN2"])] == ["DEMPCN2"]
    with pytest.raises(InputError) as info:
        area.select(["DEMPCN9"])
    assert "DEMPCN9" in str(info.value) and "wolverhampton.yaml" in str(info.value)


def test_slug_and_period_cannot_escape_output_folder(tmp_path, demo_doc):
    demo_doc["area"]["slug"] = "../etc"
    rejected(tmp_path, demo_doc, "area.slug", "not a valid code")
    demo_doc["area"]["slug"] = "ok"
    demo_doc["period"]["label"] = "2019/20"
    rejected(tmp_path, demo_doc, "period.label", "not a valid code")


def test_tier_cuts_validated(tmp_path, demo_doc):
    demo_doc["risk"]["tier_cuts"] = [0.05, 0.005]
    rejected(tmp_path, demo_doc, "risk.tier_cuts", "increasing")


def test_data_paths_resolve_under_project_root():
    area = P.load(DEMO)
    assert area.data.path("patients").name == "patient_extract.csv"
    assert area.data.path("patients").parent == Path(__file__).resolve().parents[1] / "data/raw/synthetic/wolverhampton"
