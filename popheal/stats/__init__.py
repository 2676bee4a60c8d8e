"""Indicator statistics for population health, equal to PHEindicatormethods, FunnelPlotR and Making Data Count.

Every function takes a pandas DataFrame and column names, groups with ``by=``, is vectorised (group sums
with numpy, no loop over groups) and returns a DataFrame in the DESIGN.md indicator shape: the ``by``
columns, the function's own columns, ``value`` with ``lowercl``/``uppercl`` (or ``lower95_0cl``,
``upper95_0cl``, ``lower99_8cl``, ``upper99_8cl`` for ``confidence=(0.95, 0.998)``), then ``confidence``,
``statistic`` and ``method``. Without ``by``, ``proportion`` and ``rate`` work row by row and keep the
input's columns (as PHEindicatormethods does), while ``mean``, ``dsr``, ``isr``, ``life_expectancy`` and
``sii`` treat the whole table as one group. Bad arguments raise ``ValueError`` or ``TypeError`` with a
plain-English message. This subpackage imports nothing else from popheal.

Functions: proportion, rate, mean, dsr (with the ESP2013 constant), isr, life_expectancy, quantile, sii,
funnel_limits, funnel_significance, overdispersion (with overdispersion_summary and overdispersion_limits),
xmr and spc_icons.
"""

from .dsr import ESP2013, ESP2013_BANDS, dsr
from .funnels import SIGNIFICANCE_LABELS, funnel_limits, funnel_significance
from .isr import isr
from .life_expectancy import LE_START_AGES, life_expectancy
from .means import mean
from .overdispersion import overdispersion, overdispersion_limits, overdispersion_summary
from .proportions import proportion
from .quantiles import quantile
from .rates import rate
from .sii import sii
from .spc import spc_icons, xmr

__all__ = [
    "ESP2013",
    "ESP2013_BANDS",
    "LE_START_AGES",
    "SIGNIFICANCE_LABELS",
    "dsr",
    "funnel_limits",
    "funnel_significance",
    "isr",
    "life_expectancy",
    "mean",
    "overdispersion",
    "overdispersion_limits",
    "overdispersion_summary",
    "proportion",
    "quantile",
    "rate",
    "sii",
    "spc_icons",
    "xmr",
]
