"""Export executed notebooks to pack pages with nbconvert, in-process, without code or injected parameters.

The custom template (templates/popheal) extends nbconvert's classic cell blocks but writes its own page: NHS
header, SYNTHETIC banner, section navigation, inline CSS (a few KB instead of the lab template's ~270 KB),
and no script or stylesheet fetched from a CDN, so packs open offline and make no network request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from nbconvert.preprocessors import Preprocessor, TagRemovePreprocessor

__all__ = ["REMOVE_TAGS", "TEMPLATES", "PageInfo", "export_html"]

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: Cells never shown to readers: papermill's injected parameters, the parameters cell, and analyst-only cells.
REMOVE_TAGS = ("injected-parameters", "parameters", "remove-cell")


@dataclass
class PageInfo:
    """What the page template needs besides the notebook itself."""

    page_title: str
    heading: str
    area_name: str
    period: str
    pcn_code: str = ""
    synthetic: bool = False
    nav: list[dict] = field(default_factory=list)
    version: str = ""
    commit: str = ""
    timestamp: str = ""
    disclosure_note: str = ""
    footer_note: str = ""


class _DropAnalystOutput(Preprocessor):
    """Drop stderr streams (warnings, progress bars) and error outputs: they are for the analyst, not readers."""

    def preprocess_cell(self, cell, resources, index):
        if cell.get("cell_type") == "code":
            cell.outputs = [
                o for o in cell.get("outputs", [])
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
                and o.get("output_type") != "error"
            ]
        return cell, resources


@lru_cache(maxsize=1)
def _css() -> str:
    return (TEMPLATES / "popheal" / "pack.css").read_text(encoding="utf-8")


def _exporter() -> HTMLExporter:
    exporter = HTMLExporter(
        template_name="popheal",
        extra_template_basedirs=[str(TEMPLATES)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        anchor_link_text="",
    )
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags=set(REMOVE_TAGS), enabled=True), True)
    exporter.register_preprocessor(_DropAnalystOutput(enabled=True), True)
    return exporter


def export_html(nb: nbformat.NotebookNode | str | Path, page: PageInfo, target: Path | None = None) -> str:
    """Render an executed notebook to a self-contained pack page (and write it to ``target`` when given)."""
    if not isinstance(nb, nbformat.NotebookNode):
        nb = nbformat.read(str(nb), as_version=4)
    resources = {"popheal": {**page.__dict__, "css": _css()}}
    body, _ = _exporter().from_notebook_node(nb, resources=resources)
    if target is not None:
        Path(target).write_text(body, encoding="utf-8")
    return body
