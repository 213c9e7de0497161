"""The companion's scoring half: the blend with the encoder in logit space."""

from __future__ import annotations

import numpy as np
import pytest

from toxicity_pyfunc.served.lexical import blend


def test_blend_is_a_weighted_logit_average_that_keeps_unscored_labels() -> None:
    encoder = np.array([[0.9, 0.2], [0.1, 0.6]])
    lexical = np.array([[0.0, np.nan], [2.0, np.nan]])
    assert blend(encoder, lexical, 0.0) is encoder
    np.testing.assert_allclose(blend(encoder, lexical, 1.0)[:, 0], 1 / (1 + np.exp(-lexical[:, 0])))
    np.testing.assert_allclose(blend(encoder, lexical, 0.5)[:, 1], encoder[:, 1])
    half = blend(encoder, lexical, 0.5)[0, 0]
    assert half == pytest.approx(1 / (1 + np.exp(-0.5 * np.log(0.9 / 0.1))))
    saturated = blend(np.array([[1.0, 0.0]]), np.zeros((1, 2)), 0.3)
    assert np.isfinite(saturated).all()
    assert 0.5 < saturated[0, 0] < 1.0
    assert 0.0 < saturated[0, 1] < 0.5
