"""Reference check of the mixed model: :func:`analysis.longitudinal.fit_random_intercept_reml`
against statsmodels ``MixedLM`` (REML, random intercept; Seabold & Perktold 2010) on the
synthetic cohort and the minimal dataset. Tolerances: statsmodels stops its BFGS search at a
gradient tolerance, so its variance components agree to about 1e-4 relative."""
from __future__ import annotations

import numpy as np
import pytest
import statsmodels.formula.api as smf

from analysis import longitudinal
from analysis.contract import load_dataset
from analysis.paths import SYNTHETIC, TEST_DATASET


@pytest.mark.parametrize("directory", [SYNTHETIC, TEST_DATASET], ids=["synthetic", "minimal"])
@pytest.mark.parametrize("outcome", list(longitudinal.OUTCOMES))
def test_reml_fit_equals_statsmodels_mixedlm(directory, outcome):
    frame = longitudinal.derive_longitudinal(load_dataset(directory))
    ours = longitudinal.fit_change_model(frame, outcome)
    column = longitudinal.OUTCOMES[outcome][0]
    reference = smf.mixedlm(longitudinal.FORMULA.format(y=column), ours.data,
                            groups=ours.data["USUBJID"]).fit(reml=True)
    names = list(reference.fe_params.index)
    assert list(ours.result_.fe_params.index) == names
    np.testing.assert_allclose(ours.result_.fe_params[names], reference.fe_params, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.sqrt(np.diag(ours.result_.cov_params().loc[names, names])), reference.bse_fe,
                               rtol=2e-3)
    assert float(ours.result_.cov_re.iloc[0, 0]) == pytest.approx(float(reference.cov_re.iloc[0, 0]), rel=1e-3)
    assert float(ours.result_.scale) == pytest.approx(float(reference.scale), rel=1e-3)
    assert ours.converged_
