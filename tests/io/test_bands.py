"""The one definition of the 5-year age bands."""

import numpy as np
import pandas as pd

from popheal.io.bands import AGE_BANDS, age_band


def test_bands_are_the_contract_labels():
    assert AGE_BANDS[0] == "0-4" and AGE_BANDS[-2] == "85-89" and AGE_BANDS[-1] == "90+" and len(AGE_BANDS) == 19


def test_ages_fall_in_the_right_band_and_bad_ages_are_missing():
    got = age_band([0, 4, 5, 89, 90, 120, -1, None, "x"]).tolist()
    assert got[:6] == ["0-4", "0-4", "5-9", "85-89", "90+", "90+"]
    assert all(pd.isna(v) for v in got[6:])


def test_index_is_kept_and_result_is_ordered():
    s = age_band(pd.Series(np.array([92, 1]), index=[10, 11]))
    assert list(s.index) == [10, 11] and s.cat.ordered and s.iloc[0] > s.iloc[1]
