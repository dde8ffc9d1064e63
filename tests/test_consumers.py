"""Libraries that take any Array API array, fed interop tensors: scikit-learn with array-API
dispatch and array-api-extra. Results must equal those on NumPy arrays and come back as
interop tensors, on every backend."""

import numpy as np
import pytest

import interop as it

sklearn = pytest.importorskip("sklearn")
xpx = pytest.importorskip("array_api_extra")


@pytest.fixture
def dispatch():
    with sklearn.config_context(array_api_dispatch=True):
        yield


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((60, 4))
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 1)
    return x, y


def test_pca_matches_numpy(be, dispatch):
    from sklearn.decomposition import PCA
    x, _ = _data()
    ref = PCA(svd_solver="full", n_components=3).fit(x)
    got = PCA(svd_solver="full", n_components=3).fit(it.tensor(x))
    assert isinstance(got.components_, it.Tensor) and got.components_.backend is be
    np.testing.assert_allclose(got.components_.numpy(), ref.components_, atol=1e-5)
    np.testing.assert_allclose(got.explained_variance_.numpy(), ref.explained_variance_,
                               rtol=1e-5)
    out = got.transform(it.tensor(x))
    assert isinstance(out, it.Tensor)
    np.testing.assert_allclose(out.numpy(), ref.transform(x), atol=1e-5)


def test_lda_fit_predict_matches_numpy(be, dispatch):
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    x, y = _data()
    ref = LinearDiscriminantAnalysis().fit(x, y)
    got = LinearDiscriminantAnalysis().fit(it.tensor(x), it.tensor(y))
    pred = got.predict(it.tensor(x))
    assert isinstance(pred, it.Tensor)
    np.testing.assert_array_equal(pred.numpy(), ref.predict(x))
    np.testing.assert_allclose(got.coef_.numpy(), ref.coef_, atol=1e-5)
    np.testing.assert_allclose(got.transform(it.tensor(x)).numpy(), ref.transform(x), atol=1e-5)
    np.testing.assert_allclose(got.predict_proba(it.tensor(x)).numpy(), ref.predict_proba(x),
                               atol=1e-5)


def test_array_api_extra_functions(be):
    x = np.random.default_rng(1).standard_normal((5, 3))
    t = it.tensor(x)
    assert xpx.atleast_nd(it.tensor(1.0), ndim=3).shape == (1, 1, 1)
    np.testing.assert_allclose(xpx.cov(t.T).numpy(), np.cov(x.T), rtol=1e-10)
    np.testing.assert_array_equal(xpx.pad(t, 1).numpy(), np.pad(x, 1))
    np.testing.assert_allclose(xpx.sinc(t).numpy(), np.sinc(x), rtol=1e-10)
    np.testing.assert_array_equal(xpx.kron(t, t).numpy(), np.kron(x, x))
    got = xpx.expand_dims(t, axis=(0, 2))
    assert isinstance(got, it.Tensor) and got.shape == (1, 5, 1, 3)
