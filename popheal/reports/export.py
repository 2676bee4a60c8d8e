"""The single export point of a pack: every table and chart a notebook shows or offers for download.

Notebooks never call ``display(df)`` or ``df.to_csv`` for pack content; they call a :class:`Section`:

>>> sec = Section(out_dir, "referrals", title="Referral variation", threshold=7, base=5)
>>> shown = sec.table(by_practice, "by_practice", counts=["observed", "registered"],
...                   rates={"rate_per_1000": ("observed", "registered", 1000)},
...                   protect=dict.fromkeys(["ratio", "lowercl", "uppercl"], "observed"),
...                   caption="Referrals by practice, 2023/24", source="Synthetic referral extract")
>>> sec.figure(fig, "funnel", alt="Funnel plot: two practices above the upper 99.8% limit",
...            source="Synthetic referral extract; limits after Spiegelhalter (2005)")

``table`` applies :func:`popheal.disclosure.apply` (thresholds from the area YAML, passed by the caller),
shows an accessible HTML table, writes ``downloads/<section>_<name>.csv`` and ``.xlsx`` and records them in
the pack's ``manifest.json``, which ``popheal scan`` reads. Rules: DESIGN.md "Disclosure control" (NHS Digital
HES/ECDS disclosure control 2018; OpenSAFELY SDC documentation).
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import HTML, Markdown

from popheal import disclosure

__all__ = ["DOWNLOADS", "MANIFEST", "Section", "read_manifest", "slugify"]

#: The pack's manifest file name, at the top of the pack folder.
MANIFEST = "manifest.json"
#: The pack's downloads folder, under the pack folder.
DOWNLOADS = "downloads"
_FORBIDDEN = re.compile(r"[/\\\x00'\"`]|\.\.")


def slugify(name: str) -> str:
    """A file-name-safe slug (``[a-z0-9_-]`` only): "Age & sex" -> "age_sex".

    A name holding a path separator, ``..``, a quote or NUL is refused (ValueError) rather than cleaned, so a
    path can never be steered outside the pack folder.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"export: a name must be non-empty text, not {name!r}")
    if _FORBIDDEN.search(name):
        raise ValueError(f"export: name {name!r} may not contain '/', '\\', '..', quotes or NUL")
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9_-]+", "_", ascii_name.lower()).strip("_-")
    if not slug:
        raise ValueError(f"export: name {name!r} has no letters or digits to make a file name from")
    return slug[:80]


def read_manifest(pack_dir: str | Path) -> dict:
    """The pack's manifest: ``{"tables": [...], "figures": [...], "findings": [...]}`` (empty lists when the
    pack has none yet). Each table entry has ``file`` (relative to the pack, POSIX), ``section``, ``name``,
    ``caption``, ``format``, ``count_columns``, ``controlled_columns``, ``threshold`` and ``base`` (and
    ``sheet`` for XLSX)."""
    path = Path(pack_dir) / MANIFEST
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    for key in ("tables", "figures", "findings"):
        data.setdefault(key, [])
    return data


class Section:
    """One section of a pack: shows disclosure-controlled tables and charts and writes the downloads.

    Parameters
    ----------
    out_dir : the PCN's pack folder for this run (downloads and manifest.json go here; created if missing).
    name : the section's name, used in download file names (slugified, e.g. "referrals").
    title : the section's title for the manifest (defaults to ``name``).
    threshold, base : the area's disclosure rules (``params`` disclosure settings): counts 1..threshold are
        suppressed, others rounded to the nearest base.
    display : how to show output; defaults to ``IPython.display.display`` (tests pass a list's ``append``).
    """

    def __init__(
        self,
        out_dir: str | Path,
        name: str,
        title: str | None = None,
        threshold: int = disclosure.SUPPRESSION_THRESHOLD,
        base: int = disclosure.ROUNDING_BASE,
        display: Callable[[object], object] | None = None,
    ):
        self.out_dir = Path(out_dir)
        self.name = slugify(name)
        self.title = title or name
        disclosure.check_rules(threshold, base)
        self.threshold, self.base = threshold, base
        if display is None:
            from IPython.display import display
        self._display = display
        self.out_dir.mkdir(parents=True, exist_ok=True)

    # -- tables -------------------------------------------------------------------------------------------
    def table(
        self,
        df: pd.DataFrame,
        name: str,
        counts: str | Sequence[str],
        rates: Mapping[str, tuple[str, str, float]] | None = None,
        protect: Mapping[str, str] | None = None,
        totals: Sequence[str | Sequence[str]] | str | None = None,
        *,
        denominators: Mapping[str, str] | None = None,
        caption: str,
        source: str,
        alt: str | None = None,
        labels: Mapping[str, str] | None = None,
        decimals: int | Mapping[str, int] = 1,
    ) -> pd.DataFrame:
        """Disclose, show and write one table; return the disclosed DataFrame (draw charts from it).

        Parameters are those of :func:`popheal.disclosure.apply` (``counts``, ``rates``, ``protect``,
        ``totals``) plus ``caption`` (the table's title, required), ``source`` (the "Source: ..." line,
        required), ``alt`` (an optional one-sentence summary for screen-reader users), ``labels`` (column
        headings for readers) and ``decimals`` (for non-count numbers). Writes ``downloads/<section>_<name>.csv``
        and ``.xlsx`` (suppressed cells empty, with ``<column>_suppressed`` flags) and records both in
        ``manifest.json``.

        A column that reads as a count (:func:`popheal.disclosure.is_count_name`) but is not controlled is an
        error: ``popheal scan`` would stop the pack later. Assign the result (``shown = sec.table(...)``) so the
        notebook does not print the DataFrame a second time.
        """
        if not (isinstance(caption, str) and caption.strip() and isinstance(source, str) and source.strip()):
            raise ValueError("export: every table needs a caption and a source")
        slug = slugify(name)
        result = disclosure.apply(df, counts, rates=rates, threshold=self.threshold, base=self.base,
                                  totals=totals, protect=protect, denominators=denominators)
        _refuse_hidden_counts(result)
        self._display(HTML(result.to_html(caption=caption, source=source, summary=alt, labels=labels,
                                           decimals=decimals)))

        stem = f"{self.name}_{slug}"
        data = _for_download(result, decimals)
        csv_path = self._download(stem + ".csv")
        xlsx_path = self._download(stem + ".xlsx")
        _write_atomic(csv_path, data.to_csv(index=False, lineterminator="\n").encode("utf-8"))
        _write_atomic(xlsx_path, _xlsx_bytes(data, caption, source, result.footnote))

        common = {
            "section": self.name,
            "section_title": self.title,
            "name": slug,
            "caption": caption,
            "source": source,
            "count_columns": list(result.counts),
            "controlled_columns": list(result.controlled),
            "threshold": self.threshold,
            "base": self.base,
        }
        manifest = read_manifest(self.out_dir)
        for path, extra in ((csv_path, {"format": "csv"}), (xlsx_path, {"format": "xlsx", "sheet": "data"})):
            _upsert(manifest["tables"], {"file": self._relative(path), **common, **extra})
        self._write_manifest(manifest)
        return result.data

    # -- figures ------------------------------------------------------------------------------------------
    def figure(self, fig, name: str, alt: str, source: str, note: str | None = None, save: bool = False) -> None:
        """Show a matplotlib figure as ``<figure><img alt=...><figcaption>`` and close it.

        ``alt`` (what the chart shows, for screen readers) and ``source`` are required; ``note`` is a method
        line put before the source. PNG at 100 dpi, embedded as base64 (nbconvert's own PNG output ignores alt
        text). ``save=True`` also writes ``downloads/<section>_<name>.png`` and records it in the manifest.
        Draw the figure only from disclosed tables (what :meth:`table` returns).
        """
        if not (isinstance(alt, str) and alt.strip()):
            raise ValueError("export: every figure needs alt text describing what it shows")
        if not (isinstance(source, str) and source.strip()):
            raise ValueError("export: every figure needs a source")
        slug = slugify(name)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight", metadata={"Software": None})
        _close(fig)
        png = buffer.getvalue()
        caption = " ".join(p for p in (note, f"Source: {source}") if p)
        self._display(HTML(
            '<figure class="popheal-figure">'
            f'<img alt="{html.escape(alt, quote=True)}" src="data:image/png;base64,{base64.b64encode(png).decode()}"'
            ' style="max-width:100%;height:auto">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        ))
        if save:
            path = self._download(f"{self.name}_{slug}.png")
            _write_atomic(path, png)
            manifest = read_manifest(self.out_dir)
            _upsert(manifest["figures"], {"file": self._relative(path), "section": self.name, "name": slug,
                                          "alt": alt, "source": source})
            self._write_manifest(manifest)

    # -- text ---------------------------------------------------------------------------------------------
    def note(self, text: str) -> None:
        """Show a short Markdown note (method, caveat). Quote figures only from disclosed tables."""
        self._display(Markdown(text))

    def finding(self, text: str) -> None:
        """Show a key finding and record it in the manifest (the overview page lists them). Quote figures
        only from disclosed tables."""
        self._display(Markdown(f"> **Key finding:** {text}"))
        manifest = read_manifest(self.out_dir)
        _upsert(manifest["findings"], {"section": self.name, "text": text}, key=("section", "text"))
        self._write_manifest(manifest)

    # -- paths --------------------------------------------------------------------------------------------
    def _download(self, file_name: str) -> Path:
        folder = self.out_dir / DOWNLOADS
        path = folder / file_name
        if path.resolve().parent != folder.resolve():  # belt and braces after slugify
            raise ValueError(f"export: {file_name!r} would be written outside {folder}")
        folder.mkdir(parents=True, exist_ok=True)
        return path

    def _relative(self, path: Path) -> str:
        return path.relative_to(self.out_dir).as_posix()

    def _write_manifest(self, manifest: dict) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
        _write_atomic(self.out_dir / MANIFEST, text.encode("utf-8"))


def _refuse_hidden_counts(result: disclosure.DisclosedTable) -> None:
    data, controlled = result.data, set(result.controlled)
    loose = []
    for c in result.display_columns():
        if c in controlled or not disclosure.is_count_name(c) or not pd.api.types.is_numeric_dtype(data[c]):
            continue
        values = data[c].dropna().to_numpy(dtype=float)
        if data[c].dtype != bool and np.all(values == np.round(values)):
            loose.append(c)
    if loose:
        raise ValueError(f"export: column(s) {loose} look like counts but are not disclosure-controlled; add them "
                         "to counts (or rename them if they are not counts of people or events)")


def _for_download(result: disclosure.DisclosedTable, decimals: int | Mapping[str, int] = 1) -> pd.DataFrame:
    """Counts as whole numbers with empty suppressed cells (not 10.0 / NaN) for CSV and XLSX; other numbers
    to the decimals shown on the page, so a download carries no more precision than the table (a ratio or a
    confidence limit at full precision can be worked back to an unrounded count)."""
    data = result.data.copy()
    for c in result.counts:
        data[c] = data[c].astype("Int64")
    for c in data.columns:
        if c in result.counts or c.endswith(disclosure.FLAG_SUFFIX) or not pd.api.types.is_float_dtype(data[c]):
            continue
        places = decimals.get(c, 1) if isinstance(decimals, Mapping) else decimals
        data[c] = data[c].round(places)
    return data


def _xlsx_bytes(data: pd.DataFrame, caption: str, source: str, footnote: str) -> bytes:
    buffer = io.BytesIO()
    notes = pd.DataFrame({"item": ["Table", "Source", "Disclosure control"], "text": [caption, source, footnote]})
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        data.to_excel(writer, sheet_name="data", index=False)
        notes.to_excel(writer, sheet_name="notes", index=False)
    return buffer.getvalue()


def _write_atomic(path: Path, content: bytes) -> None:
    """Write to a temporary file in the same folder, then rename over the target (readers never see half)."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _upsert(entries: list[dict], entry: dict, key: tuple[str, ...] = ("file",)) -> None:
    """Replace the entry with the same key (a re-run notebook), else append."""
    for i, old in enumerate(entries):
        if all(old.get(k) == entry.get(k) for k in key):
            entries[i] = entry
            return
    entries.append(entry)


def _close(fig) -> None:
    import matplotlib.pyplot as plt

    plt.close(fig)
