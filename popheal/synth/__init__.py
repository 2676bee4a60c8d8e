"""popheal.synth: a deterministic generator of a whole SYNTHETIC area, in the layouts of the real sources.

``generate(params)`` writes, into data/raw/synthetic/<area>/ (or ``out_dir``), every file named under the area
YAML's ``data:`` keys, in the published layouts of data/raw/README.md: registered patients by practice x sex x
5-year band and the practice -> PCN map (NHS Digital), LSOA residents by single year of age (ONS SAPE), IMD
2019 File 1 (MHCLG), LSOA polygons (GeoJSON, ``lsoa11cd``), practice sites (NHS Choices GP file), an ONS
SNPP-layout projection, a life table (ONS long layout), fertility rates and net migration, and the patient and
referral extracts of DESIGN.md (and, when configured, the local authority's mid-year estimates in the ONS MYE2
layout). It also writes SYNTHETIC_DATA.json, which marks the folder synthetic and records the truth.
``patients(n, seed)`` returns an n-row patient extract from the same machinery. Nothing here describes a real
person; every code looks synthetic (PCNs DEMPCN1.., practices DEM001.., LSOAs E01099xxx, providers DEMPR1..,
postcodes WV99 ..., CCG "DEM").

API: :func:`generate` (write an area's files), :func:`patients` (an n-row extract), :func:`synthetic_area` (an
area in memory: ``.patients``, ``.lsoas`` with IMD ranks and deciles, ``.practices``, ``.truth`` with each
patient's true admission probability, ``.practice_truth()``, ``.referrals(start, end)``),
:func:`practice_truth`, :func:`split_practice_lists`, :func:`admission_design` (the covariates of the true
admission model), :func:`cambridge_score`, :func:`efi_deficit_count`; constants ADMISSION_COEFFICIENTS,
REFERRAL_PRACTICE_EFFECTS (= REFERRAL_PLANTED_OUTLIERS), REFERRAL_PRACTICE_SD, REFERRAL_BASE_RATES,
PREVALENCE_TARGETS, and every other target in :mod:`popheal.synth.model`.

Determinism: every component draws from its own stream, ``numpy.random.default_rng(SeedSequence(seed,
spawn_key=(crc32(name),)))`` (popheal.synth._util.stream), so the same seed gives byte-identical files and
adding a component changes no other. Calibration targets and coefficients are named constants in
:mod:`popheal.synth.model`, each with its source (facts) or marked ASSUMPTION; the generator never reads the
genuine data files.

The generating model
====================

1. Practices and PCNs. PCN totals are the YAML's ``list_size`` (seed facts, exact). A PCN's practices get the
   YAML's sizes when given, else a deterministic split: weights exp(N(0, 0.35)) (floored at 0.1 of the mean),
   largest-remainder rounding, so they sum exactly to the PCN total (:func:`split_practice_lists`).

2. Geography. About one LSOA per 1,800 registered patients (Wolverhampton: 263,357 residents in 158 LSOAs,
   list inflation ~9%), at most 1,000 (codes E01099000-E01099999). LSOAs are Voronoi cells of a jittered
   hexagonal lattice inside an irregular outline, radially warped (small central LSOAs, larger suburban ones),
   scaled so the mean LSOA is 0.44 km^2 and placed on Wolverhampton's centre (52.586 N, 2.129 W) on a local
   plane. PCNs are spatial clusters (recursive proportional bisection of the LSOAs by list size), practices
   clusters inside their PCN; a practice's site is in the LSOA at the middle of its cluster.

3. Deprivation. A smooth field (east and centre deprived, west affluent, three random bumps, noise) ranks the
   LSOAs; national IMD deciles are given in Wolverhampton's real proportions (File 1: 33, 45, 17, 15, 11, 9,
   13, 11, 3, 1 LSOAs in deciles 1..10, so about half the people are in the most deprived quintile) and
   national ranks are drawn inside each decile's rank range (1..32,844), in field order.

4. Catchments and the registered population. A practice's expected patients by LSOA come from iterative
   proportional fitting of the kernel exp(-distance / 1.4 lattice units) (x3 in its own cluster) to the
   practice list sizes (rows) and LSOA sizes exp(N(0, 0.18)) (columns). The registered age/sex shape is ONS
   mid-2019 Wolverhampton (persons by single year; 90+ spread and sexes split by the stationary population of
   the life table) times an age-specific list-inflation curve (mean ~+9%); each practice's shape is tilted
   younger with its mean deprivation, w(a) x exp(tau_p x clip((40 - a) / 30, -1.5, 1)), tau_p = 0.22 z_p +
   N(0, 0.1), then refitted (IPF) so the area as a whole keeps the Wolverhampton shape; counts by practice x
   sex x single year are multinomial with the exact list size. Each patient's LSOA is drawn from the
   practice's catchment; 2% of LSOAs are blanked in the extract (missing at random). LSOA residents =
   registered patients in the LSOA thinned by 1 / inflation(age) (binomial).

5. Patients. Covariates: age, sex, deprivation d = (10 - IMD decile of the true LSOA) / 9 (0 least, 1 most
   deprived national decile), ethnicity, and three latent standard normal factors h1 (general/frailty), h2
   (cardiometabolic), h3 (mental health), corr(h1, h2) = corr(h1, h3) = 0.3.
   - Ethnicity: multinomial logit against White with effects of d, age 65+ and under 18
     (model.ETHNICITY_EFFECTS); intercepts solved so the shares are the 2011 Census shares; 3.1% "Not stated".
   - Each LTC (model.LTC_MODELS, drawn in the listed order): logit P = logit(age curve) + b_male x male +
     b_dep x d + b_eth + loadings . (h1, h2, h3) + sum of log odds ratios on conditions drawn earlier + c,
     zero below ``min_age``; the intercept c is solved (on a 60,000-patient calibration sample) so the
     prevalence among ages ``denom_age``+ equals the target (QOF 2019/20 modelled Wolverhampton prevalence:
     hypertension 14.5%, diabetes 8.6% of 17+, asthma 6.2%, COPD 1.9%, CHD 3.1%, AF 1.8%, HF 1.0%, stroke/TIA
     1.7%, CKD 4.1% of 18+, PAD 0.6%, dementia 0.8%, depression 11.8% of 18+, SMI 1.0%, LD 0.6%, epilepsy 1.0%
     of 18+, cancer 2.7%, osteoporosis 0.9% of 50+, RA 1.0% of 16+; others are assumptions). ``cancer_5y`` =
     cancer and U < 0.45. Status flags (care home, palliative, housebound; model.STATUS_MODELS) the same way;
     housebound excludes care-home residents; pregnant: 1.2% of women 16-45 with an age profile.
   - eFI: the 36 deficits are the LTC/status flags they name (efi_atrial_fibrillation == ltc_af, efi_diabetes
     == ltc_diabetes, efi_hypertension == ltc_hypertension, efi_heart_failure == ltc_heart_failure,
     efi_housebound == housebound, efi_polypharmacy == n_medications >= 5, ...; see model.EFI_DEFINITIONS) and
     23 eFI-only draws of the same logistic form whose targets among people 65+ put the eFI categories among
     65+ near the frailty toolkit's 50/35/12/3%.
   - n_medications: negative binomial (gamma shape 4), log mean = age curve + condition terms + 0.25 h1 + c, c
     solved so 45% of people 65+ have 5 or more.
   - Activity in the last 12 months (model.ACTIVITY_MODELS): negative binomial, log mean = age curve + b x
     (LTC count) + b x (Cambridge score) + b x d + latent + flag terms + c, c solved for the target mean (GP
     contacts 5.5, A&E 0.38 (gamma shape 2) so a handful are high intensity users, emergency admissions 0.125,
     outpatient attendances 1.9). ``referrals`` (patient level): negative binomial (shape 1.5) with mean =
     base rate(age, sex) x the practice's true referral multiplier E_p x X_p (below).
   - sbp: recorded for 92% of hypertensives (mean 132 + 4 d + 0.1 (age - 60), sd 14: about two thirds < 140),
     45% of others 40+ and 15% at 18-39 (mean 118 + 0.35 (age - 40), sd 12); NaN otherwise. smi_health_check
     for 60% of SMI, ld_health_check for 70% of LD.

6. The outcome ``emergency_admission_next_12m`` ~ Bernoulli(expit(x'beta)) with KNOWN beta
   (model.ADMISSION_COEFFICIENTS; the covariates are defined exactly there and built by
   :func:`admission_design`): intercept -3.20, age10 = (age - 50)/10: 0.13, age < 5: 1.50, male: 0.10,
   Cambridge general score: 0.40, eFI category among 65+ (deficit count 5-8 / 9-13 / 14+ against fit or under
   65): 0.60 / 1.15 / 1.70, min(prior emergency admissions, 3): 0.75, min(A&E attendances, 5): 0.25,
   deprivation d: 0.40, palliative: 1.30, care home: 0.50. Nothing unobserved enters the outcome, so a
   logistic regression on these covariates recovers beta (about 10% are admitted; the true probabilities have
   a c-statistic of about 0.75).

7. Referrals (the referral extract, every month of the period): counts ~ Poisson(N(practice, sex, age) x R(age
   band, sex) x E_p x X_p(band, sex) x S(month) x days/365.25), with R = model.REFERRAL_BASE_RATES (about 300
   per 1,000 a year), S = model.REFERRAL_SEASONALITY (mean 1; August and December dips), and the TRUE practice
   effect E_p = exp(0.15 x (Core20 share_p - mean)) x M_p, where M_p = exp(N(0, 0.06)) (geometric mean 1)
   except the PLANTED outliers model.REFERRAL_PLANTED_OUTLIERS = {position 2: x1.45, 16: x1.35, 27: x0.65}
   (0-based positions in the area's practice order; the demo's DEM003, DEM017 and DEM028). X_p is the planted
   specialty excess (practice position 8, Dermatology x2.5, which adds about +15% to that practice's total).
   Each referral gets a weekday date in its month, patient age (+1 a year), a specialty from weights by age
   band and sex (model.SPECIALTIES), priority (two-week-wait/urgent shares by specialty and age), route
   (advice-and-guidance by specialty x a practice propensity exp(N(0, 0.4)) on the odds; never for 2WW),
   out_of_area (a practice share around 14%, higher at the edge of the area) and a provider (DEMPR1/2 local,
   DEMPR3-5 out of area). :func:`practice_truth` returns every practice's true effects.

8. Demography. Life table: parametric m(x) fitted to the ONS UK 2017-19 national life table, e0 = 79.37 (M)
   and 83.06 (F). Fertility: TFR 1.85 on a gamma-shaped schedule, mean age 29.5 (ASSUMPTION). Net migration:
   inflow of young adults, small outflows of families and of older adults, about +500 a year (ASSUMPTION). The
   SNPP-layout file is the residents projected with popheal.projection.cohort_component from the base year for
   25 years.
"""

from popheal.synth.generate import (
    MANIFEST_NAME,
    SyntheticArea,
    generate,
    patients,
    practice_truth,
    split_practice_lists,
    synthetic_area,
)
from popheal.synth.model import (
    ADMISSION_COEFFICIENTS,
    CAMBRIDGE_GENERAL_WEIGHTS,
    EFI_TOOLKIT_SHARES,
    ENGLAND_SHARE_65PLUS_2019,
    LTC_MODELS,
    REFERRAL_BASE_RATES,
    REFERRAL_PLANTED_OUTLIERS,
    REFERRAL_PLANTED_SPECIALTY,
    REFERRAL_PRACTICE_SD,
)
from popheal.synth.people import admission_design, cambridge_score, efi_deficit_count

#: Practice position -> planted referral multiplier (alias of REFERRAL_PLANTED_OUTLIERS).
REFERRAL_PRACTICE_EFFECTS = REFERRAL_PLANTED_OUTLIERS
#: Target prevalence of each LTC (fraction of the people aged ``denom_age``+ in model.LTC_MODELS).
PREVALENCE_TARGETS: dict[str, float] = {name: spec["target"] for name, spec in LTC_MODELS.items()}

__all__ = [
    "ADMISSION_COEFFICIENTS",
    "CAMBRIDGE_GENERAL_WEIGHTS",
    "EFI_TOOLKIT_SHARES",
    "ENGLAND_SHARE_65PLUS_2019",
    "LTC_MODELS",
    "MANIFEST_NAME",
    "PREVALENCE_TARGETS",
    "REFERRAL_BASE_RATES",
    "REFERRAL_PLANTED_OUTLIERS",
    "REFERRAL_PLANTED_SPECIALTY",
    "REFERRAL_PRACTICE_EFFECTS",
    "REFERRAL_PRACTICE_SD",
    "SyntheticArea",
    "admission_design",
    "cambridge_score",
    "efi_deficit_count",
    "generate",
    "patients",
    "practice_truth",
    "split_practice_lists",
    "synthetic_area",
]
