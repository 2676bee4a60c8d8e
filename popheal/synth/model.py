"""Calibration targets and the known generating model of the synthetic area (facts and assumptions).

Every number here is either a published fact (its source in the comment, read from ../shared/data/real or
../shared/reference while developing; the generator never reads those files) or a documented assumption
(marked ASSUMPTION). The module docstring of :mod:`popheal.synth` explains how they are used.
"""

from __future__ import annotations

import numpy as np

# ------------------------------------------------------------------------------------------ area and people
#: ONS mid-2019 population estimates (MYE2, persons, single year of age 0..89 and 90+), Wolverhampton
#: E08000031; total 263,357 (data/real/mye_lad_syoa/population19_ltla19_persons_syoa_EW.csv).
WOLVERHAMPTON_MYE_2019: tuple[int, ...] = (
    3374, 3507, 3556, 3660, 3687, 3787, 3791, 3805, 3842, 3643, 3394, 3615, 3351, 3254, 3203, 3034,
    2909, 2864, 2874, 2661, 2824, 2950, 3246, 3292, 3476, 3564, 3718, 3792, 3884, 3870, 3878, 3946,
    3722, 3905, 3813, 3658, 3661, 3443, 3466, 3535, 3382, 3065, 2990, 3137, 3060, 3263, 3489, 3522,
    3780, 3619, 3499, 3423, 3532, 3547, 3442, 3386, 3314, 3257, 3137, 2948, 2834, 2776, 2651, 2573,
    2415, 2492, 2354, 2401, 2335, 2256, 2220, 2270, 2309, 1863, 1821, 1975, 1830, 1617, 1529, 1594,
    1445, 1418, 1324, 1251, 1088, 1003, 935, 885, 734, 624, 2289,
)
#: Share of England's population aged 65+, mid-2019: 18.39% (sum of the English LADs in the same ONS MYE
#: file: 10,353,716 of 56,286,961). Wolverhampton's is 16.65%.
ENGLAND_SHARE_65PLUS_2019 = 0.1839
WOLVERHAMPTON_SHARE_65PLUS_2019 = 0.1665

#: Registered list / resident population ("list inflation") by age. England's GP registers exceeded the ONS
#: estimates by about 4-7% (House of Commons Library; NHS Digital April 2022 spotlight), most at young-adult
#: ages; Wolverhampton's 292,418 registered (seed facts, April 2019) against 263,357 residents is +11%.
#: ASSUMPTION: a curve averaging about +9% (knots at ages 0, 5, 18, 25, 35, 50, 70, 85, 100), which gives a
#: registered 65+ share near Wolverhampton's 15.7% (HoC Library QOF age groups, April 2020, 37 practices of
#: 06A).
LIST_INFLATION_KNOTS = ((0, 5, 18, 25, 35, 50, 70, 85, 100),
                        (1.03, 1.06, 1.10, 1.16, 1.12, 1.07, 1.03, 1.01, 1.00))

#: Share of patient records with no LSOA of residence (ASSUMPTION: "a few %").
LSOA_MISSING_SHARE = 0.02
#: Mean resident population of an LSOA: Wolverhampton's 263,357 residents in 158 LSOAs (ONS SAPE mid-2019).
LSOA_MEAN_RESIDENTS = 1667
#: Mean LSOA area, m^2: Wolverhampton's 158 LSOAs average 0.44 km^2 (ONS LSOA 2011 boundaries, BNG area).
LSOA_MEAN_AREA_M2 = 440_000.0
#: Wolverhampton city centre (WGS84), where the synthetic area is drawn.
AREA_CENTRE_LATLON = (52.5862, -2.1288)

#: IMD 2019 national decile of Wolverhampton's 158 LSOAs (File 1, LAD E08000031): counts for deciles 1..10
#: (data/real/imd2019_lsoa/File_1_-_IMD2019_Index_of_Multiple_Deprivation_BlackCountry.csv).
WOLVERHAMPTON_IMD_DECILE_COUNTS: tuple[int, ...] = (33, 45, 17, 15, 11, 9, 13, 11, 3, 1)
#: Highest national IMD 2019 rank in each decile (32,844 LSOAs; England File 1).
IMD_DECILE_UPPER_RANKS: tuple[int, ...] = (3284, 6568, 9853, 13137, 16422, 19706, 22990, 26275, 29559, 32844)
N_LSOAS_ENGLAND = 32844

#: Ethnic group shares, Wolverhampton, 2011 Census (KS201EW, as quoted in the popheal brief; 35.5% BAME in
#: seed-facts.md); the remainder (3.1%) is recorded as "Not stated" in the GP record (ASSUMPTION).
ETHNICITY_SHARES = {"White": 0.645, "Asian": 0.179, "Black": 0.069, "Mixed": 0.051, "Other": 0.025}
#: Multinomial-logit effects for the minority groups against White: per unit of deprivation (0 least, 1 most
#: deprived decile), age 65+, and under 18 (ASSUMPTION: minority groups live more in deprived LSOAs and are
#: younger, as in the 2011 Census).
ETHNICITY_EFFECTS = {
    "Asian": {"dep": 1.2, "old": -0.6, "child": 0.2},
    "Black": {"dep": 1.3, "old": -0.8, "child": 0.2},
    "Mixed": {"dep": 0.8, "old": -1.5, "child": 0.8},
    "Other": {"dep": 0.9, "old": -0.7, "child": 0.0},
}

# ------------------------------------------------------------------------- long-term conditions (LTC) model
#: Knot ages of every age curve below (prevalences in % for conditions, interpolated linearly between knots;
#: log rate ratios for activity).
AGE_KNOTS: tuple[int, ...] = (0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100)

#: LTC models. ``target`` is the prevalence among people aged ``denom_age``+ that the intercept is solved for:
#: QOF targets are the House of Commons Library modelled QOF 2019/20 prevalence for Wolverhampton
#: (data/real/qof/hocl_modelled_QOF1920_prevalence_LAD_BlackCountry.csv); the rest are ASSUMPTIONS of the
#: order reported by Barnett et al., Lancet 2012;380:37-43 (Scottish primary care). ``shape``: prevalence (%)
#: at AGE_KNOTS before calibration; ``min_age``: none younger; ``male``, ``dep``: log odds ratios for men and
#: per unit of deprivation (0 = least deprived national decile, 1 = most); ``eth``: log odds ratios by ethnic
#: group; ``load``: loadings on the latent factors (general/frailty, cardiometabolic, mental health);
#: ``after``: log odds ratios on conditions drawn earlier (listed in drawing order).
LTC_MODELS: dict[str, dict] = {
    "hypertension": {"target": 0.1446, "denom_age": 0, "min_age": 18, "source": "QOF HYP",
                     "shape": (0, 0, 0.5, 2, 7, 17, 32, 48, 60, 65, 65), "male": 0.15, "dep": 0.35,
                     "eth": {"Black": 0.5, "Asian": 0.25}, "load": (0.2, 0.8, 0.0)},
    "diabetes": {"target": 0.0855, "denom_age": 17, "min_age": 0, "source": "QOF DM (17+)",
                 "shape": (0.2, 0.3, 0.6, 1.5, 4, 9, 16, 22, 23, 18, 15), "male": 0.3, "dep": 0.6,
                 "eth": {"Asian": 0.9, "Black": 0.5}, "load": (0.2, 0.8, 0.0)},
    "asthma": {"target": 0.062, "denom_age": 0, "min_age": 1, "source": "QOF AST",
               "shape": (5, 8, 7, 6, 6, 6, 6, 6.5, 6, 5, 4), "male": -0.1, "dep": 0.2,
               "load": (0.3, 0.0, 0.1)},
    "copd": {"target": 0.0186, "denom_age": 0, "min_age": 35, "source": "QOF COPD",
             "shape": (0, 0, 0, 0, 0.4, 1.5, 3.5, 6, 8, 7, 6), "male": 0.2, "dep": 1.2,
             "eth": {"Asian": -0.5}, "load": (0.5, 0.2, 0.0)},
    "chd": {"target": 0.0312, "denom_age": 0, "min_age": 30, "source": "QOF CHD",
            "shape": (0, 0, 0, 0.05, 0.5, 2, 5, 10, 15, 18, 18), "male": 0.7, "dep": 0.55,
            "eth": {"Asian": 0.4}, "load": (0.2, 0.7, 0.0), "after": {"hypertension": 0.5, "diabetes": 0.4}},
    "af": {"target": 0.0181, "denom_age": 0, "min_age": 20, "source": "QOF AF",
           "shape": (0, 0, 0, 0.05, 0.2, 0.7, 2, 5, 10, 14, 15), "male": 0.35, "dep": 0.05,
           "eth": {"Asian": -0.4, "Black": -0.4}, "load": (0.2, 0.5, 0.0), "after": {"hypertension": 0.4}},
    "heart_failure": {"target": 0.0096, "denom_age": 0, "min_age": 20, "source": "QOF HF",
                      "shape": (0, 0, 0, 0.02, 0.1, 0.4, 1, 2.5, 5.5, 9, 10), "male": 0.4, "dep": 0.4,
                      "load": (0.4, 0.6, 0.0), "after": {"chd": 1.0, "af": 0.9, "hypertension": 0.3}},
    "stroke_tia": {"target": 0.017, "denom_age": 0, "min_age": 18, "source": "QOF STIA",
                   "shape": (0, 0, 0, 0.1, 0.3, 0.9, 2.2, 4.5, 8, 10, 10), "male": 0.2, "dep": 0.3,
                   "eth": {"Black": 0.3}, "load": (0.3, 0.5, 0.0), "after": {"af": 0.6, "hypertension": 0.4}},
    "ckd": {"target": 0.0411, "denom_age": 18, "min_age": 18, "source": "QOF CKD (18+)",
            "shape": (0, 0, 0, 0.1, 0.4, 1.5, 4, 10, 22, 32, 35), "male": -0.1, "dep": 0.25,
            "load": (0.3, 0.5, 0.0), "after": {"diabetes": 0.8, "hypertension": 0.7}},
    "pad": {"target": 0.0057, "denom_age": 0, "min_age": 35, "source": "QOF PAD",
            "shape": (0, 0, 0, 0, 0.05, 0.3, 0.9, 2, 3, 3.5, 3.5), "male": 0.6, "dep": 0.6,
            "load": (0.3, 0.5, 0.0), "after": {"diabetes": 0.7}},
    "dementia": {"target": 0.0077, "denom_age": 0, "min_age": 40, "source": "QOF DEM",
                 "shape": (0, 0, 0, 0, 0.02, 0.1, 0.4, 1.5, 6, 17, 25), "male": -0.1, "dep": 0.2,
                 "load": (0.6, 0.1, 0.0), "after": {"stroke_tia": 0.6}},
    "depression": {"target": 0.1182, "denom_age": 18, "min_age": 12, "source": "QOF DEP (18+)",
                   "shape": (0, 0.5, 9, 13, 14, 14, 13, 12, 11, 10, 10), "male": -0.65, "dep": 0.35,
                   "eth": {"Asian": -0.6, "Black": -0.5}, "load": (0.2, 0.0, 0.9)},
    "anxiety": {"target": 0.05, "denom_age": 18, "min_age": 10, "source": "ASSUMPTION",
                "shape": (0, 1, 6, 6, 6, 5.5, 5, 4.5, 4, 4, 4), "male": -0.6, "dep": 0.3,
                "load": (0.1, 0.0, 0.9), "after": {"depression": 1.0}},
    "smi": {"target": 0.0099, "denom_age": 0, "min_age": 15, "source": "QOF MH",
            "shape": (0, 0, 0.6, 1.2, 1.4, 1.4, 1.3, 1.1, 0.9, 0.8, 0.8), "male": 0.1, "dep": 1.0,
            "eth": {"Black": 0.8}, "load": (0.1, 0.0, 0.6)},
    "learning_disability": {"target": 0.0059, "denom_age": 0, "min_age": 0, "source": "QOF LD",
                            "shape": (0.7, 0.9, 0.9, 0.8, 0.7, 0.6, 0.5, 0.3, 0.15, 0.1, 0.1), "male": 0.4,
                            "dep": 0.4, "load": (0.2, 0.0, 0.0)},
    "epilepsy": {"target": 0.0096, "denom_age": 18, "min_age": 0, "source": "QOF EP (18+)",
                 "shape": (0.5, 0.7, 0.8, 0.9, 0.9, 1, 1, 1, 1.1, 1, 1), "male": 0.1, "dep": 0.5,
                 "load": (0.3, 0.0, 0.1), "after": {"learning_disability": 1.8}},
    "cancer": {"target": 0.0267, "denom_age": 0, "min_age": 0, "source": "QOF CAN",
               "shape": (0.02, 0.05, 0.1, 0.3, 0.8, 2, 4.5, 8, 11, 12, 12), "male": -0.05, "dep": -0.1,
               "eth": {"Asian": -0.4, "Black": -0.2}, "load": (0.3, 0.0, 0.0)},
    "osteoporosis": {"target": 0.0091, "denom_age": 50, "min_age": 50, "source": "QOF OST (50+)",
                     "shape": (0, 0, 0, 0, 0, 0.2, 0.6, 1.2, 2.5, 3.5, 3.5), "male": -1.5, "dep": 0.0,
                     "load": (0.6, 0.0, 0.0)},
    "rheumatoid_arthritis": {"target": 0.0097, "denom_age": 16, "min_age": 16, "source": "QOF RA (16+)",
                             "shape": (0, 0.02, 0.1, 0.3, 0.6, 1.0, 1.5, 2, 2, 1.8, 1.5), "male": -0.9,
                             "dep": 0.2, "load": (0.3, 0.0, 0.0)},
    "alcohol": {"target": 0.015, "denom_age": 16, "min_age": 14, "source": "ASSUMPTION",
                "shape": (0, 0, 1, 1.8, 2.5, 3, 2.5, 1.8, 1, 0.5, 0.3), "male": 1.0, "dep": 0.9,
                "eth": {"Asian": -1.0}, "load": (0.2, 0.0, 0.5)},
    "painful_condition": {"target": 0.09, "denom_age": 18, "min_age": 10, "source": "ASSUMPTION",
                          "shape": (0, 0.3, 2, 4, 7, 11, 15, 18, 22, 25, 25), "male": -0.3, "dep": 0.4,
                          "load": (0.6, 0.0, 0.2)},
    "ibs": {"target": 0.04, "denom_age": 16, "min_age": 10, "source": "ASSUMPTION",
            "shape": (0, 0.3, 3, 4.5, 5, 5, 4.5, 4, 3.5, 3, 3), "male": -0.8, "dep": 0.0,
            "load": (0.1, 0.0, 0.4)},
    "constipation": {"target": 0.025, "denom_age": 0, "min_age": 0, "source": "ASSUMPTION",
                     "shape": (1.0, 0.5, 0.5, 0.6, 0.8, 1.2, 2, 4, 8, 13, 15), "male": -0.3, "dep": 0.1,
                     "load": (0.7, 0.0, 0.0)},
    "hearing_loss": {"target": 0.04, "denom_age": 0, "min_age": 0, "source": "ASSUMPTION",
                     "shape": (0.3, 0.5, 0.5, 0.8, 1.2, 2, 4, 8, 15, 25, 30), "male": 0.3, "dep": 0.0,
                     "load": (0.2, 0.0, 0.0)},
}
#: Share of people on the cancer register diagnosed in the last 5 years (ASSUMPTION; about half of UK cancer
#: prevalence is within 5 years of diagnosis, Macmillan/NCRAS 2015 complete prevalence, unverified).
CANCER_5Y_SHARE = 0.45
#: Latent factors: general/frailty (h1), cardiometabolic (h2), mental health (h3): standard normal, with
#: h2 and h3 correlated 0.3 with h1 (ASSUMPTION). They make conditions cluster, as multimorbidity does.
LATENT_CORRELATION = 0.3

# ------------------------------------------------------------------ status flags and the eFI-only deficits
#: Status flags: ``target`` prevalence among ``denom_age``+ (or, for pregnancy, of women 16-45).
STATUS_MODELS: dict[str, dict] = {
    "care_home": {"target": 0.005, "denom_age": 0, "min_age": 50,
                  "shape": (0, 0, 0, 0, 0, 0.01, 0.05, 0.4, 3, 15, 30), "male": -0.3, "dep": 0.1,
                  "load": (0.9, 0.0, 0.0), "after": {"dementia": 2.0, "learning_disability": 1.5}},
    "palliative": {"target": 0.004, "denom_age": 0, "min_age": 18,
                   "shape": (0, 0, 0, 0, 0.02, 0.1, 0.3, 0.8, 2, 4, 5), "male": 0.1, "dep": 0.1,
                   "load": (1.0, 0.0, 0.0),
                   "after": {"cancer_5y": 1.8, "heart_failure": 1.2, "dementia": 1.0, "copd": 0.8}},
    "housebound": {"target": 0.01, "denom_age": 0, "min_age": 30,
                   "shape": (0, 0, 0, 0, 0.05, 0.1, 0.3, 1, 5, 18, 25), "male": -0.2, "dep": 0.3,
                   "load": (1.2, 0.0, 0.0), "after": {"dementia": 0.8, "stroke_tia": 0.6}},
}
#: ASSUMPTION (from the popheal brief): a recorded-pregnancy flag for about 1.2% of women aged 16-45 (lower
#: than the true point prevalence of ~4% because pregnancies are coded late and incompletely).
PREGNANT_SHARE_WOMEN_16_45 = 0.012

#: eFI deficits that no LTC column defines (Clegg et al. 2016 Box 1 names; reference/domain-spec.md A.2):
#: ``target`` is the prevalence among people 65+ (ASSUMPTION, tuned so that eFI categories among 65+ come out
#: near the frailty toolkit shares 50% fit / 35% mild / 12% moderate / 3% severe, domain-spec A.3).
#: ``osteoarthritis``, ``memory_problems`` and ``care_package`` are hidden inputs of the deficits arthritis,
#: memory_and_cognitive_problems and requirement_for_care.
EFI_ONLY_MODELS: dict[str, dict] = {
    "osteoarthritis": {"target": 0.404, "shape": (0, 0, 0.2, 0.5, 2, 7, 15, 28, 38, 42, 42), "male": -0.3,
                       "load": (0.54, 0.0, 0.0)},
    "activity_limitation": {"target": 0.107, "shape": (0.5, 0.5, 0.5, 0.6, 0.8, 1.2, 2, 5, 11, 20, 25),
                            "load": (0.99, 0.0, 0.0), "after": {"dementia": 0.8, "stroke_tia": 0.6}},
    "anaemia": {"target": 0.178, "shape": (1, 1, 2, 2.5, 2.5, 3, 4, 8, 15, 22, 25), "male": -0.2, "dep": 0.2,
                "load": (0.54, 0.0, 0.0), "after": {"ckd": 0.8, "cancer_5y": 0.7}},
    "dizziness": {"target": 0.202, "shape": (0.5, 0.5, 2, 3, 4, 5, 7, 11, 17, 22, 22),
                  "load": (0.72, 0.0, 0.2)},
    "dyspnoea": {"target": 0.202, "shape": (1, 1, 2, 2, 3, 4, 6, 11, 17, 20, 20), "dep": 0.2,
                 "load": (0.72, 0.0, 0.0), "after": {"copd": 1.2, "heart_failure": 1.2, "asthma": 0.5}},
    "falls": {"target": 0.178, "shape": (1, 1, 1, 1, 1.5, 2, 3, 7, 16, 28, 30), "load": (0.99, 0.0, 0.0),
              "after": {"dementia": 0.9, "stroke_tia": 0.5}},
    "foot_problems": {"target": 0.166, "shape": (1, 1, 2, 3, 4, 5, 7, 10, 14, 17, 17),
                      "load": (0.54, 0.0, 0.0), "after": {"diabetes": 0.9, "pad": 0.7}},
    "fragility_fracture": {"target": 0.083, "shape": (0, 0, 0.1, 0.2, 0.5, 1, 2, 4, 8, 13, 15), "male": -0.6,
                           "load": (0.63, 0.0, 0.0), "after": {"osteoporosis": 1.5}},
    "heart_valve_disease": {"target": 0.059, "shape": (0.2, 0.2, 0.2, 0.3, 0.5, 0.8, 1.5, 3.5, 7, 10, 10),
                            "load": (0.27, 0.4, 0.0), "after": {"af": 0.8, "heart_failure": 1.0}},
    "hypotension_syncope": {"target": 0.107, "shape": (0.3, 0.5, 1, 1, 1.2, 1.5, 2.5, 5, 10, 14, 15),
                            "load": (0.72, 0.0, 0.0)},
    "memory_problems": {"target": 0.071, "shape": (0, 0, 0.1, 0.2, 0.3, 0.6, 1.2, 3, 8, 12, 12),
                        "load": (0.81, 0.0, 0.2)},
    "mobility_and_transfer_problems": {"target": 0.107,
                                       "shape": (0.2, 0.2, 0.3, 0.4, 0.6, 1, 2, 4, 11, 22, 25),
                                       "load": (1.08, 0.0, 0.0), "after": {"stroke_tia": 0.8}},
    "parkinsonism_and_tremor": {"target": 0.036, "shape": (0, 0, 0, 0, 0.1, 0.3, 0.8, 2, 3.5, 4.5, 4.5),
                                "male": 0.4, "load": (0.45, 0.0, 0.0)},
    "peptic_ulcer": {"target": 0.083, "shape": (0, 0, 0.5, 1, 2, 3, 4.5, 6, 7, 8, 8), "male": 0.2, "dep": 0.3,
                     "load": (0.27, 0.0, 0.0)},
    "care_package": {"target": 0.059, "shape": (0, 0, 0, 0, 0.1, 0.3, 0.6, 2, 7, 18, 25), "min_age": 40,
                     "load": (1.08, 0.0, 0.0), "after": {"dementia": 1.2}},
    "skin_ulcer": {"target": 0.071, "shape": (0.1, 0.1, 0.2, 0.3, 0.5, 0.8, 1.3, 3, 7, 12, 14),
                   "load": (0.81, 0.0, 0.0), "after": {"diabetes": 0.7, "pad": 1.0}},
    "sleep_disturbance": {"target": 0.19, "shape": (1, 1, 4, 6, 8, 10, 11, 13, 15, 16, 16),
                          "load": (0.45, 0.0, 0.3), "after": {"depression": 0.9, "anxiety": 0.7}},
    "social_vulnerability": {"target": 0.119, "shape": (0.5, 0.5, 1, 1.5, 2, 2.5, 3, 5, 10, 16, 18),
                             "dep": 0.6, "load": (0.63, 0.0, 0.2)},
    "thyroid_disease": {"target": 0.143, "shape": (0.2, 0.3, 1, 2, 3.5, 5, 7, 10, 12, 12, 12), "male": -1.4,
                        "load": (0.18, 0.0, 0.0)},
    "urinary_incontinence": {"target": 0.143, "shape": (0.5, 0.5, 0.5, 1, 1.5, 2, 3.5, 7, 13, 20, 22),
                             "male": -0.5, "load": (0.81, 0.0, 0.0)},
    "urinary_system_disease": {"target": 0.19, "shape": (1, 1, 2, 2, 3, 4, 7, 11, 17, 22, 22),
                               "load": (0.54, 0.0, 0.0), "after": {"ckd": 0.5}},
    "visual_impairment": {"target": 0.131, "shape": (0.5, 0.5, 0.5, 0.8, 1, 1.5, 3, 6, 13, 23, 25),
                          "load": (0.54, 0.0, 0.0), "after": {"diabetes": 0.4}},
    "weight_loss_and_anorexia": {"target": 0.059, "shape": (0.2, 0.2, 0.3, 0.4, 0.5, 0.7, 1, 2, 5, 9, 10),
                                 "load": (0.9, 0.0, 0.0), "after": {"cancer_5y": 0.8, "dementia": 0.8}},
}
#: How each of the 36 eFI deficits is defined from the other columns (``ltc:`` an LTC flag, ``status:`` a
#: status flag, ``only:`` an eFI-only draw above, ``|`` = either).
EFI_DEFINITIONS: dict[str, str] = {
    "activity_limitation": "only:activity_limitation",
    "anaemia": "only:anaemia",
    "arthritis": "ltc:rheumatoid_arthritis|only:osteoarthritis",
    "atrial_fibrillation": "ltc:af",
    "cerebrovascular_disease": "ltc:stroke_tia",
    "chronic_kidney_disease": "ltc:ckd",
    "diabetes": "ltc:diabetes",
    "dizziness": "only:dizziness",
    "dyspnoea": "only:dyspnoea",
    "falls": "only:falls",
    "foot_problems": "only:foot_problems",
    "fragility_fracture": "only:fragility_fracture",
    "hearing_impairment": "ltc:hearing_loss",
    "heart_failure": "ltc:heart_failure",
    "heart_valve_disease": "only:heart_valve_disease",
    "housebound": "status:housebound",
    "hypertension": "ltc:hypertension",
    "hypotension_syncope": "only:hypotension_syncope",
    "ischaemic_heart_disease": "ltc:chd",
    "memory_and_cognitive_problems": "ltc:dementia|only:memory_problems",
    "mobility_and_transfer_problems": "only:mobility_and_transfer_problems",
    "osteoporosis": "ltc:osteoporosis",
    "parkinsonism_and_tremor": "only:parkinsonism_and_tremor",
    "peptic_ulcer": "only:peptic_ulcer",
    "peripheral_vascular_disease": "ltc:pad",
    "polypharmacy": "n_medications>=5",
    "requirement_for_care": "status:care_home|only:care_package",
    "respiratory_disease": "ltc:asthma|ltc:copd",
    "skin_ulcer": "only:skin_ulcer",
    "sleep_disturbance": "only:sleep_disturbance",
    "social_vulnerability": "only:social_vulnerability",
    "thyroid_disease": "only:thyroid_disease",
    "urinary_incontinence": "only:urinary_incontinence",
    "urinary_system_disease": "only:urinary_system_disease",
    "visual_impairment": "only:visual_impairment",
    "weight_loss_and_anorexia": "only:weight_loss_and_anorexia",
}
#: eFI categories on the integer deficit count (domain-spec A.3: fit 0-4, mild 5-8, moderate 9-13, severe
#: 14+).
EFI_CATEGORY_CUTS = (5, 9, 14)
#: Frailty toolkit shares of people 65+ by eFI category (frailtytoolkit.org; domain-spec A.3).
EFI_TOOLKIT_SHARES = {"fit": 0.50, "mild": 0.35, "moderate": 0.12, "severe": 0.03}

#: Cambridge Multimorbidity Score, general-outcome weights (Payne et al. CMAJ 2020; domain-spec B.2,
#: SECONDARY) mapped onto the LTC columns; ``anxiety|depression`` counts once.
CAMBRIDGE_GENERAL_WEIGHTS: dict[str, float] = {
    "alcohol": 0.65, "anxiety|depression": 0.50, "asthma": 0.19, "af": 1.34, "cancer_5y": 1.53, "ckd": 0.53,
    "rheumatoid_arthritis": 0.43, "constipation": 1.12, "copd": 1.46, "chd": 0.49, "dementia": 2.50,
    "diabetes": 0.75, "epilepsy": 0.92, "hearing_loss": 0.09, "heart_failure": 1.18, "hypertension": 0.08,
    "ibs": 0.21, "painful_condition": 0.92, "smi": 0.64, "stroke_tia": 0.80,
}

# ------------------------------------------------------------------------------ medications and activity
#: Repeat medications: negative binomial (gamma shape 4) with log mean = intercept + age curve + these log
#: rate ratios per condition + 0.25 x h1; the intercept is solved so that 45% of people 65+ have >= 5
#: (ASSUMPTION; about half of over-65s in England take 5+ medicines, NHS England polypharmacy review 2021).
MEDICATION_MODEL = {"polypharmacy_65plus": 0.45, "shape": 4.0, "load": 0.25, "max_mean": 16, "max": 30,
                    "age": (-1.6, -1.5, -1.0, -0.7, -0.4, -0.1, 0.2, 0.4, 0.5, 0.5, 0.5),
                    "ltc": {"hypertension": 0.55, "diabetes": 0.6, "chd": 0.5, "heart_failure": 0.6,
                            "af": 0.4, "copd": 0.45, "asthma": 0.35, "ckd": 0.2, "depression": 0.4,
                            "anxiety": 0.2, "smi": 0.45, "epilepsy": 0.45, "dementia": 0.25,
                            "stroke_tia": 0.4, "painful_condition": 0.35, "rheumatoid_arthritis": 0.35,
                            "pad": 0.3, "osteoporosis": 0.3, "thyroid_disease": 0.25, "cancer_5y": 0.3}}
#: Activity in the last 12 months: negative binomial, log mean = intercept + age curve (log rate ratios at
#: AGE_KNOTS) + terms; ``mean`` is the target mean per person per year the intercept is solved for.
#: ASSUMPTIONS of the order of national figures: GP contacts ~5-6 per person a year (NHS Digital appointments
#: in general practice, 2019, ~300m/56m); A&E ~0.4 (NHS Digital A&E activity 2019/20, ~25m attendances);
#: emergency admissions ~0.11-0.13 (HES 2019/20, 6.4m); outpatient attendances ~2 (HES, ~120m incl.
#: follow-up).
ACTIVITY_MODELS: dict[str, dict] = {
    "gp_contacts": {"mean": 5.5, "shape": 1.6,
                    "age": (0.2, -0.5, -0.3, -0.1, 0.0, 0.1, 0.3, 0.5, 0.8, 0.9, 0.9), "n_ltc": 0.1,
                    "dep": 0.1, "female_16_45": 0.3, "load": (0.3, 0.0, 0.2), "max_mean": 40, "max": 150},
    "ae_attendances": {"mean": 0.38, "shape": 2.0,
                       "age": (0.5, -0.4, 0.3, 0.1, 0.0, -0.1, -0.1, 0.1, 0.5, 0.9, 0.9), "n_ltc": 0.08,
                       "dep": 0.4, "load": (0.3, 0.0, 0.4), "ltc": {"alcohol": 1.0, "smi": 0.6},
                       "max_mean": 5, "max": 60},
    "emergency_admissions": {"mean": 0.125, "shape": 0.8,
                             "age": (-0.3, -1.6, -1.0, -1.0, -0.9, -0.6, -0.2, 0.4, 1.0, 1.5, 1.6),
                             "cms": 0.18, "dep": 0.3, "load": (0.45, 0.0, 0.1), "status": {"palliative": 1.0},
                             "max_mean": 3, "max": 20},
    "outpatient_attendances": {"mean": 1.9, "shape": 0.8,
                               "age": (0.0, -0.6, -0.5, -0.3, -0.1, 0.1, 0.4, 0.7, 0.8, 0.6, 0.4),
                               "n_ltc": 0.18, "dep": 0.0, "load": (0.3, 0.0, 0.0), "ltc": {"cancer_5y": 1.2},
                               "max_mean": 15, "max": 80},
}
#: Means are capped at ``max_mean`` (the intercept re-solved) and counts at ``max`` (ASSUMPTION: no patient
#: has more than 150 GP contacts, 60 A&E attendances, 20 emergency admissions or 80 outpatient attendances).
#: Share of hypertensives with a systolic BP recorded, and of others by age (ASSUMPTION); BP values: normal
#: with the means below (mmHg), sd 14 for hypertensives, 12 otherwise; QOF 2019/20 shows about two thirds of
#: hypertensives controlled (< 140/90), which the hypertensive mean of 132 reproduces.
SBP_MODEL = {"recorded_hypertensive": 0.92, "recorded_40plus": 0.45, "recorded_18_39": 0.15,
             "mean_hypertensive": 132.0, "sd_hypertensive": 14.0, "mean_other_40": 118.0,
             "per_year_other": 0.35, "sd_other": 12.0, "dep_hypertensive": 4.0}
#: Annual health checks (Core20PLUS5 SMI ambition 60%; LD annual health checks ~70% in 2019/20, ASSUMPTION).
SMI_HEALTH_CHECK_SHARE = 0.60
LD_HEALTH_CHECK_SHARE = 0.70

# ------------------------------------------------------------------------------ the admission model (truth)
#: The TRUE logistic model of ``emergency_admission_next_12m`` (log odds). Covariates, exactly:
#: ``age10`` = (age - 50) / 10; ``age_under5`` = age < 5; ``male`` = sex == "M";
#: ``cms`` = Cambridge Multimorbidity Score, general weights (CAMBRIDGE_GENERAL_WEIGHTS) summed over the LTC
#: flags; ``efi_mild``/``efi_moderate``/``efi_severe`` = aged 65+ and the eFI deficit count (sum of the 36
#: ``efi_*`` columns) is 5-8 / 9-13 / 14+ (reference: fit, or under 65);
#: ``prior_emergency_admissions`` = min(emergency_admissions, 3); ``ae_attendances`` = min(ae_attendances, 5);
#: ``deprivation`` = (10 - IMD decile of the patient's LSOA) / 9 (0 least deprived national decile, 1 most);
#: ``palliative``, ``care_home`` = the status flags. :func:`popheal.synth.admission_design` builds them.
ADMISSION_COEFFICIENTS: dict[str, float] = {
    "intercept": -3.20,
    "age10": 0.13,
    "age_under5": 1.50,
    "male": 0.10,
    "cms": 0.40,
    "efi_mild": 0.60,
    "efi_moderate": 1.15,
    "efi_severe": 1.70,
    "prior_emergency_admissions": 0.75,
    "ae_attendances": 0.25,
    "deprivation": 0.40,
    "palliative": 1.30,
    "care_home": 0.50,
}
#: The true model's c-statistic is about 0.75 on the demo area (QAdmissions reports 0.76-0.78; domain-spec
#: D.3), and about 10% of people are admitted.

# ------------------------------------------------------------------------------------------ referrals
#: GP referral rates per 1,000 per year by sex and 5-year band (0-4 .. 85-89, 90+). ASSUMPTION shaped like
#: national first-outpatient GP referral rates (women higher at 15-54, men at 70+); the scale gives about
#: 300 per 1,000 a year for Wolverhampton's age structure.
REFERRAL_BASE_RATES: dict[str, tuple[float, ...]] = {
    "F": (180, 130, 120, 160, 245, 320, 355, 365, 365, 375, 385, 405, 440, 470, 515, 545, 555, 525, 460),
    "M": (225, 160, 130, 125, 145, 165, 185, 210, 230, 260, 305, 360, 425, 485, 550, 605, 615, 585, 520),
}
#: Planted referral outliers: practice position (0-based, in the area's practice order) -> rate multiplier.
#: Positions beyond the number of practices are ignored (a 5-practice area gets position 2 only).
REFERRAL_PLANTED_OUTLIERS: dict[int, float] = {2: 1.45, 16: 1.35, 27: 0.65}
#: Every other practice: lognormal multiplier exp(N(0, sd)), renormalised to geometric mean 1.
REFERRAL_PRACTICE_SD = 0.06
#: Practice-level deprivation effect on referral rates: log rate ratio per unit of the practice's Core20
#: share.
REFERRAL_DEPRIVATION_EFFECT = 0.15
#: Planted specialty excess: at this practice position, this specialty's rate is multiplied (bonus outlier).
REFERRAL_PLANTED_SPECIALTY = {"position": 8, "specialty": "Dermatology", "multiplier": 2.5}
#: Monthly seasonality of referrals (Jan..Dec; ASSUMPTION: dips in August and December), mean 1.
REFERRAL_SEASONALITY = (1.06, 1.05, 1.05, 0.98, 1.00, 1.02, 1.01, 0.88, 1.01, 1.06, 1.05, 0.83)

#: Specialties: base share, multipliers for children (<16), older people (65+), men, women (ASSUMPTION).
SPECIALTIES: dict[str, dict] = {
    "Dermatology": {"share": 0.1, "child": 0.8, "old": 1.1},
    "Trauma & Orthopaedics": {"share": 0.12, "child": 0.4, "old": 1.0},
    "ENT": {"share": 0.08, "child": 1.5, "old": 0.9},
    "Gynaecology": {"share": 0.16, "child": 0.02, "old": 0.4, "male": 0.0},
    "General Surgery": {"share": 0.11, "child": 0.3, "old": 1.0},
    "Cardiology": {"share": 0.06, "child": 0.05, "old": 2.0},
    "Gastroenterology": {"share": 0.07, "child": 0.1, "old": 1.2},
    "Urology": {"share": 0.045, "child": 0.2, "old": 1.6, "male": 2.2},
    "Ophthalmology": {"share": 0.08, "child": 0.5, "old": 2.5},
    "Paediatrics": {"share": 0.0, "child": 12.0, "old": 0.0},
    "Respiratory": {"share": 0.04, "child": 0.05, "old": 1.6},
    "Neurology": {"share": 0.04, "child": 0.2, "old": 0.9},
    "Rheumatology": {"share": 0.03, "child": 0.05, "old": 1.0, "male": 0.6},
    "Endocrinology": {"share": 0.02, "child": 0.05, "old": 1.0},
    "Haematology": {"share": 0.02, "child": 0.05, "old": 1.5},
}
#: Priority: two-week-wait (2WW) and urgent shares by specialty for ages 40-64; 2WW x0.3 under 30 and x1.3 at
#: 65+ (ASSUMPTION; nationally about 1 in 5 GP referrals is a 2WW suspected-cancer referral).
PRIORITY_SHARES: dict[str, tuple[float, float]] = {"Dermatology": (0.32, 0.05),
                                                   "Trauma & Orthopaedics": (0.02, 0.06), "ENT": (0.12, 0.08),
                                                   "Gynaecology": (0.22, 0.08),
                                                   "General Surgery": (0.3, 0.08), "Cardiology": (0.0, 0.2),
                                                   "Gastroenterology": (0.38, 0.1), "Urology": (0.32, 0.08),
                                                   "Ophthalmology": (0.01, 0.15), "Paediatrics": (0.01, 0.15),
                                                   "Respiratory": (0.22, 0.1), "Neurology": (0.05, 0.15),
                                                   "Rheumatology": (0.01, 0.1), "Endocrinology": (0.04, 0.08),
                                                   "Haematology": (0.28, 0.1)}
#: Advice-and-guidance share by specialty (ASSUMPTION; Haematology and Endocrinology lead, as in the
#: Wolverhampton A&G counts in seed-facts.md); practice propensity: odds x exp(N(0, 0.4)). 2WW never goes A&G.
ADVICE_AND_GUIDANCE_SHARES: dict[str, float] = {"Dermatology": 0.15, "Trauma & Orthopaedics": 0.04,
                                                "ENT": 0.05, "Gynaecology": 0.1, "General Surgery": 0.04,
                                                "Cardiology": 0.15, "Gastroenterology": 0.15, "Urology": 0.1,
                                                "Ophthalmology": 0.04, "Paediatrics": 0.08,
                                                "Respiratory": 0.12, "Neurology": 0.12, "Rheumatology": 0.2,
                                                "Endocrinology": 0.3, "Haematology": 0.35}
ADVICE_AND_GUIDANCE_PRACTICE_SD = 0.4
#: Out-of-area referral share: logit-normal by practice around 14%, higher at the edge of the area
#: (ASSUMPTION; Wigan's packs report out-of-area referrals as a key variation, seed-facts.md).
OUT_OF_AREA_SHARE = 0.14
OUT_OF_AREA_EDGE_EFFECT = 1.2
OUT_OF_AREA_PRACTICE_SD = 0.35
#: Synthetic providers: local acute trust, local independent-sector provider, three out-of-area trusts.
LOCAL_PROVIDERS = {"DEMPR1": 0.85, "DEMPR2": 0.15}
OUT_OF_AREA_PROVIDERS = {"DEMPR3": 0.6, "DEMPR4": 0.3, "DEMPR5": 0.1}

# ------------------------------------------------------------------------------------------ demography
#: UK life expectancy at birth 2017-2019 (ONS National Life Tables, UK; data/real/life_tables): male 79.37,
#: female 83.06. The synthetic life table is a parametric fit to that table: m(x) = exp(a0) exp(-exp(b0) x) +
#: exp(A) + exp(h) exp(-((x - 22) / 6)^2) + exp(B) exp(c x) (infant/child decline + Makeham constant +
#: young-adult hump + Gompertz), fitted on log mx weighted by deaths and with B set so that e0 equals the
#: published value.
E0_UK_2017_19 = {"male": 79.37, "female": 83.06}
LIFE_TABLE_PARAMETERS = {
    "male": {"a0": -5.480384, "b0": 1.129981, "A": -9.796049, "B": -10.833468, "c": 0.099946, "h": -8.044113},
    "female": {"a0": -5.671793, "b0": 1.153948, "A": -9.50096, "B": -11.874011, "c": 0.109218,
               "h": -9.425936},
}
#: ASSUMPTION: total fertility rate 1.85 (England 2019 1.65; Wolverhampton's is higher, about 1.9), with a
#: gamma-shaped schedule over ages 15-46 with mean age at birth 29.5 and sd 5.8 (England's mean 30.7 in 2019).
FERTILITY_TFR = 1.85
FERTILITY_MEAN_AGE = 29.5
FERTILITY_SD_AGE = 5.8
#: ASSUMPTION: net migration per year by sex and single year of age: an inflow of young adults (students and
#: international migrants, peak +55 a year at age 20 for each sex), a small outflow of families (ages 30-44
#: and their children) and of older adults (ages 55-75); net about +500 people a year for an area the size of
#: Wolverhampton, scaled in proportion to the synthetic area's residents (so a tiny test area gets a tiny flow).
MIGRATION_REFERENCE_RESIDENTS = 263_357  # Wolverhampton, ONS mid-2019 population estimate (MYE2)
MIGRATION_PEAKS = {"young_peak": 55.0, "young_age": 20.5, "young_sd": 3.5, "family_out": 9.0,
                   "child_out": 5.0, "older_out": 4.0}

#: Male share of births (sex ratio at birth 1.05, ONS births in England and Wales; domain-spec F.1).
SEX_RATIO_AT_BIRTH = 1.05


def knots_curve(values, ages=AGE_KNOTS, top: int = 120) -> np.ndarray:
    """Linear interpolation of ``values`` at knot ``ages`` for every single year 0..top."""
    return np.interp(np.arange(top + 1), np.asarray(ages, float), np.asarray(values, float))
