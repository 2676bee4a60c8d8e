"""Per-practice case-finding lists: patient-level, written only to a run's ``internal/`` tier, labelled.

DESIGN.md "Disclosure control": patient-level tables stay in the run's ``internal/`` folder (practices'
case-finding lists live there, labelled); nothing patient-level may reach ``packs/``. The writer enforces it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

import popheal
from popheal import paths
from popheal.io.errors import InputError

from ._common import EXTRACT, age, age_band_5y, require_columns, require_frame
from .tiers import rank_order

__all__ = ["PRACTICE_CODE_PATTERN", "UnsafeOutputError", "case_finding_lists", "classification_label"]

#: Practice codes that may name a folder: upper-case letters and digits, 3-12 characters (no path characters).
PRACTICE_CODE_PATTERN = re.compile(r"^[A-Z0-9]{3,12}$", re.ASCII)


class UnsafeOutputError(PermissionError):
    """A patient-level file was asked to go somewhere it could be shared (e.g. under ``packs/``)."""


def classification_label(practice_code: str) -> str:
    """The label every case-finding file carries."""
    return f"PATIENT-LEVEL — for {practice_code} own use only; not for sharing"


def _check_out_dir(out_dir) -> Path:
    path = paths.resolve(out_dir)  # a relative folder is taken from the project root, never the cwd
    for parts in (path.parts, path.resolve().parts):
        lowered = [p.lower() for p in parts]
        if "packs" in lowered:
            raise UnsafeOutputError(
                f"case_finding_lists: refusing to write patient-level lists under a 'packs' folder ({path}); "
                "pass the run's internal/ folder (outputs/<area>/<period>/internal)"
            )
    if "internal" not in [p.lower() for p in path.resolve().parts]:
        raise UnsafeOutputError(
            f"case_finding_lists: patient-level lists go only in a run's internal/ folder; {path} has no "
            "'internal' component"
        )
    return path


def case_finding_lists(
    extract: pd.DataFrame,
    probability: pd.Series,
    tiers: pd.Series,
    out_dir,
    practices: Sequence[str] | None = None,
    top: Sequence[str] = ("top 0.5%", "0.5-5%"),
    drivers: pd.DataFrame | pd.Series | None = None,
) -> pd.DataFrame:
    """Write one case-finding list per practice: ``<out_dir>/<practice_code>/case_finding_<practice_code>.csv``.

    Each list holds the practice's patients in the ``top`` tiers, highest risk first: ``data_classification``
    ("PATIENT-LEVEL — for <practice> own use only; not for sharing"), ``practice_code``, ``patient_id``
    (pseudonymised, as in the extract), ``age_band`` (5-year), ``tier``, ``rank_in_practice`` and
    ``main_drivers`` (from ``AdmissionModel.drivers``; empty when ``drivers`` is not given). A ``README.txt``
    beside it starts with the same label. Files are UTF-8 with a byte-order mark so Excel shows the label right.

    Refuses (:class:`UnsafeOutputError`) when ``out_dir`` has a ``packs`` component or no ``internal``
    component; practice codes must match ``^[A-Z0-9]{3,12}$`` so a folder name cannot escape ``out_dir``.
    A practice with nobody in the top tiers still gets a file (with no rows), so "nobody" is visible.

    Parameters
    ----------
    extract : patient extract (``patient_id``, ``practice_code``, ``age``).
    probability, tiers : per patient, aligned to the extract (``AdmissionModel.predict`` and ``tiers``).
    out_dir : the run's ``internal/`` folder.
    practices : practice codes to write (default: every practice in the extract).
    top : tier labels to list.
    drivers : ``AdmissionModel.drivers(extract)`` (or a Series of "; "-joined drivers), aligned to the extract.

    Returns
    -------
    One row per practice: ``practice_code, patients_listed, path, readme`` (counts unrounded; internal only).
    """
    folder = _check_out_dir(out_dir)
    require_frame(extract, "case_finding_lists")
    require_columns(extract, ["patient_id", "practice_code", "age"], "case_finding_lists")
    for name, obj in (("probability", probability), ("tiers", tiers), ("drivers", drivers)):
        if obj is not None and not obj.index.equals(extract.index):
            raise ValueError(f"case_finding_lists: {name} must be aligned to the extract (same index)")
    if not isinstance(tiers.dtype, pd.CategoricalDtype):
        raise TypeError("case_finding_lists: tiers must be the categorical returned by tiers()")
    missing = [t for t in top if t not in tiers.cat.categories]
    if missing:
        raise ValueError(f"case_finding_lists: top tiers {missing} are not among {list(tiers.cat.categories)}")

    codes = extract["practice_code"].astype("str")
    wanted = sorted(codes.dropna().unique()) if practices is None else list(practices)
    bad = [p for p in wanted if not isinstance(p, str) or not PRACTICE_CODE_PATTERN.match(p)]
    if bad:
        raise InputError(EXTRACT, f"practice codes must match {PRACTICE_CODE_PATTERN.pattern} to name a folder; "
                         f"got {bad[:5]}", "practice_code")

    if drivers is None:
        main = pd.Series("", index=extract.index, dtype="str")
    elif isinstance(drivers, pd.DataFrame):
        main = drivers["main_drivers"].astype("str").fillna("")
    else:
        main = drivers.astype("str").fillna("")
    selected = tiers.isin(list(top)).to_numpy() & codes.isin(wanted).to_numpy()
    rows = np.flatnonzero(selected)
    sub_prob = probability.iloc[rows]
    order = rows[rank_order(sub_prob, ids=extract["patient_id"].iloc[rows])]  # highest risk first, stable ties
    listed = pd.DataFrame({
        "practice_code": codes.iloc[order].to_numpy(),
        "patient_id": extract["patient_id"].iloc[order].to_numpy(),
        "age_band": age_band_5y(age(extract)[order], None).to_numpy(),
        "tier": tiers.iloc[order].astype("str").to_numpy(),
        "main_drivers": main.iloc[order].to_numpy(),
    })
    listed["rank_in_practice"] = listed.groupby("practice_code").cumcount() + 1

    folder.mkdir(parents=True, exist_ok=True)
    summary = []
    for practice in wanted:
        label = classification_label(practice)
        target = folder / practice
        target.mkdir(exist_ok=True)
        table = listed[listed["practice_code"] == practice]
        table = table[["practice_code", "patient_id", "age_band", "tier", "rank_in_practice", "main_drivers"]]
        table.insert(0, "data_classification", label)
        path = target / f"case_finding_{practice}.csv"
        table.to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\n")
        readme = target / "README.txt"
        readme.write_text(
            f"{label}\n\n"
            f"case_finding_{practice}.csv lists {practice}'s registered patients in the risk tiers "
            f"{', '.join(top)} of predicted emergency admission in the next 12 months (ranked within the area), "
            "highest risk first, with the main drivers of each score. Patient ids are the extract's pseudonyms; "
            "re-identify them only inside the practice's clinical system. Do not email, publish or put this "
            "file in a PCN pack.\n\n"
            f"Made by popheal {popheal.__version__} (popheal.risk.case_finding_lists).\n",
            encoding="utf-8-sig",
        )
        summary.append((practice, len(table), str(path), str(readme)))
    return pd.DataFrame(summary, columns=["practice_code", "patients_listed", "path", "readme"])
