"""Real PCN-level activity for Wolverhampton, Q3 2019/20 (data/raw/wolverhampton_pcn_activity_2019q3).

Source: Wolverhampton CCG Primary Care quarterly assurance report Q3 2019/20 and primary care strategy 2019-20
(PCN list sizes), as transcribed in ../shared/reference/seed-facts.md; the folder's README describes each file.
Four tidy CSV files, each validated (columns, whole non-negative counts, YYYY-MM months, one row per key) and
checked against each other (every PCN named in the activity files is in the list-size file under the same
name; every PCN has every month).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from popheal.io._read import PathLike, Table, read_table
from popheal.io.errors import InputError
from popheal.paths import raw_dir, resolve

__all__ = [
    "ACTIVITY_FOLDER",
    "BASKET_PERIOD",
    "SOCIAL_PRESCRIBING_CAPACITY",
    "PcnActivity",
    "read_advice_guidance",
    "read_basket_services",
    "read_pcn_activity",
    "read_pcn_list_sizes",
    "read_social_prescribing",
]

#: The shipped dataset's folder name under data/raw/.
ACTIVITY_FOLDER = "wolverhampton_pcn_activity_2019q3"
#: Social prescribing capacity: 20 referrals per PCN per month (assurance report Q3 2019/20).
SOCIAL_PRESCRIBING_CAPACITY = 20
#: The months the basket-services counts cover (April-December 2019).
BASKET_PERIOD = ("2019-04", "2019-12")

_MONTH = r"\d{4}-(?:0[1-9]|1[0-2])"
_FILES = {
    "list_sizes": "pcn_list_sizes.csv",
    "social_prescribing": "social_prescribing.csv",
    "basket_services": "basket_services.csv",
    "advice_guidance": "advice_guidance.csv",
}


def _month(t: Table, column: str = "month") -> pd.Series:
    text = t.codes(column, _MONTH, "month", example="2019-10")
    return pd.to_datetime(text, format="%Y-%m").rename(column)


def read_pcn_list_sizes(path: PathLike) -> pd.DataFrame:
    """Read ``pcn_list_sizes.csv``: ``pcn_short_name, pcn_name, practices, registered_patients`` (one row per
    PCN; counts whole numbers, practices at least 1)."""
    t = read_table(path, {"pcn_short_name": (), "pcn_name": (), "practices": (), "registered_patients": ()})
    out = pd.DataFrame({
        "pcn_short_name": t.texts("pcn_short_name", allow_na=False),
        "pcn_name": t.texts("pcn_name", allow_na=False),
        "practices": t.integers("practices", min_value=1, what="a number of practices"),
        "registered_patients": t.integers("registered_patients", min_value=1, what="a count of patients"),
    })
    t.unique("pcn_short_name", "PCN", values=out)
    t.unique("pcn_name", "PCN name", values=out)
    return out.reset_index(drop=True)


def read_social_prescribing(path: PathLike) -> pd.DataFrame:
    """Read ``social_prescribing.csv``: ``pcn_short_name, pcn_name, month`` (timestamp of the month's first
    day, from YYYY-MM), ``referrals`` (whole, non-negative); one row per PCN and month."""
    t = read_table(path, {"pcn_short_name": (), "pcn_name": (), "month": (), "referrals": ()})
    out = pd.DataFrame({
        "pcn_short_name": t.texts("pcn_short_name", allow_na=False),
        "pcn_name": t.texts("pcn_name", allow_na=False),
        "month": _month(t),
        "referrals": t.integers("referrals", what="a count of referrals"),
    })
    t.unique(["pcn_short_name", "month"], "PCN and month", values=out)
    return out.reset_index(drop=True)


def read_basket_services(path: PathLike) -> pd.DataFrame:
    """Read ``basket_services.csv``: ``service, pcn_short_name, procedures`` (April-December 2019; whole,
    non-negative); one row per service and PCN."""
    t = read_table(path, {"service": (), "pcn_short_name": (), "procedures": ()})
    out = pd.DataFrame({
        "service": t.texts("service", allow_na=False),
        "pcn_short_name": t.texts("pcn_short_name", allow_na=False),
        "procedures": t.integers("procedures", what="a count of procedures"),
    })
    t.unique(["service", "pcn_short_name"], "service and PCN", values=out)
    return out.reset_index(drop=True)


def read_advice_guidance(path: PathLike) -> pd.DataFrame:
    """Read ``advice_guidance.csv``: ``specialty, month`` (timestamp, from YYYY-MM), ``requests`` (whole,
    non-negative); one row per specialty and month (whole CCG)."""
    t = read_table(path, {"specialty": (), "month": (), "requests": ()})
    out = pd.DataFrame({
        "specialty": t.texts("specialty", allow_na=False),
        "month": _month(t),
        "requests": t.integers("requests", what="a count of requests"),
    })
    t.unique(["specialty", "month"], "specialty and month", values=out)
    return out.reset_index(drop=True)


@dataclass(frozen=True)
class PcnActivity:
    """The four validated tables of the PCN activity dataset, and where they were read from."""

    list_sizes: pd.DataFrame
    social_prescribing: pd.DataFrame
    basket_services: pd.DataFrame
    advice_guidance: pd.DataFrame
    folder: Path
    social_prescribing_capacity: int = SOCIAL_PRESCRIBING_CAPACITY
    basket_period: tuple[str, str] = BASKET_PERIOD


def _complete(df: pd.DataFrame, keys: list[str], path: Path, what: str) -> None:
    """Every combination of the key columns' values must be present (e.g. each PCN in each month)."""
    expected = 1
    for k in keys:
        expected *= df[k].nunique()
    if len(df) != expected:
        full = pd.MultiIndex.from_product([sorted(df[k].unique()) for k in keys])
        missing = full.difference(pd.MultiIndex.from_frame(df[keys]))[:3].tolist()
        raise InputError(path, f"each {what} must have a row; missing: {missing}", column=keys[0])


def read_pcn_activity(folder: PathLike | None = None) -> PcnActivity:
    """Read and cross-check the PCN activity dataset (default ``data/raw/wolverhampton_pcn_activity_2019q3``).

    Checks, besides each file's own rules: every PCN in ``social_prescribing.csv`` and ``basket_services.csv``
    is in ``pcn_list_sizes.csv`` (same ``pcn_name`` too); each PCN has each month, each service each PCN and
    each specialty each month.
    """
    base = resolve(folder) if folder is not None else raw_dir() / ACTIVITY_FOLDER
    if not base.is_dir():
        raise InputError(base, "the PCN activity folder does not exist")
    paths = {key: base / name for key, name in _FILES.items()}
    lists = read_pcn_list_sizes(paths["list_sizes"])
    social = read_social_prescribing(paths["social_prescribing"])
    basket = read_basket_services(paths["basket_services"])
    advice = read_advice_guidance(paths["advice_guidance"])

    known = set(lists["pcn_short_name"])
    for key, table in (("social_prescribing", social), ("basket_services", basket)):
        unknown = table["pcn_short_name"][~table["pcn_short_name"].isin(known)]
        if len(unknown):
            raise InputError(paths[key], f"PCN '{unknown.iloc[0]}' is not in {_FILES['list_sizes']} "
                             f"(known: {', '.join(sorted(known))})", column="pcn_short_name",
                             rows=[int(i) + 1 for i in unknown.index[:5]])
    names = social.merge(lists[["pcn_short_name", "pcn_name"]], on="pcn_short_name", suffixes=("", "_list"))
    clash = names["pcn_name"] != names["pcn_name_list"]
    if clash.any():
        raise InputError(paths["social_prescribing"], "pcn_name must match the PCN's name in "
                         f"{_FILES['list_sizes']}", column="pcn_name", rows=[int(i) + 1 for i in clash[clash].index[:5]])
    _complete(social, ["pcn_short_name", "month"], paths["social_prescribing"], "PCN and month")
    _complete(basket, ["service", "pcn_short_name"], paths["basket_services"], "service and PCN")
    _complete(advice, ["specialty", "month"], paths["advice_guidance"], "specialty and month")
    return PcnActivity(lists, social, basket, advice, base)
