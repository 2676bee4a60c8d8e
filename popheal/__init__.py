"""popheal: population health packs for NHS Primary Care Networks.

A tested library (indicator statistics, disclosure control, demographic projection, risk stratification,
referral variation, inequalities) driven by parameterised notebooks that build one HTML pack per PCN.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
