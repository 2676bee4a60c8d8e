"""NHS-styled charts (matplotlib/seaborn), one module per chart family.

Every chart is drawn from a disclosure-controlled aggregate returned by an analysis function; it never sees
patient rows. Modules: ``style`` (palette and defaults), and one module per family (pyramid, fan, funnel, spc,
maps, bars ...). Charts return a matplotlib Figure; notebooks show them through
``popheal.reports.export.Section.figure`` with alt text and a source line.
"""

from popheal.plots.style import NHS, apply_style, new_figure

__all__ = ["NHS", "apply_style", "new_figure"]
