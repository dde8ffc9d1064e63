"""The raw-array backward paths of layer and group norm (rows with a trailing weight; groups
with a per-channel weight) and of softmax/log_softmax, on every combination of which inputs
need a gradient and which of weight and bias are given, against PyTorch in float64 with the
affine written out (PyTorch's own group_norm refuses a bias without a weight in backward)."""

import itertools

import numpy as np
import pytest

import interop as it
import interop.nn.functional as F
from helpers import from_np, to_np

torch = pytest.importorskip("torch")

NEEDS = [(1, 1, 1), (1, 0, 0), (0, 1, 0), (0, 0, 1), (0, 1, 1), (1, 1, 0)]
GIVEN = list(itertools.product((True, False), repeat=2))


def _reference(kind, x, w, b, arg):
    """PyTorch float64: the normalization without affine, then weight and bias."""
    if kind == "layer":
        y = torch.nn.functional.layer_norm(x, arg)
        shape = arg
    else:
        y = torch.nn.functional.group_norm(x, arg)
        shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    if w is not None:
        y = y * w.reshape(shape)
    if b is not None:
        y = y + b.reshape(shape)
    return y


@pytest.mark.parametrize("kind,shape,arg", [
    ("layer", (4, 6, 8), (8,)), ("layer", (3, 5, 4, 2), (4, 2)),
    ("group", (4, 6, 5, 3), 3), ("group", (2, 8, 7), 2), ("group", (2, 6, 4), 1)])
def test_norm_backward_paths_match_pytorch(be, kind, shape, arg):
    rng = np.random.default_rng(7)
    pshape = arg if kind == "layer" else (shape[1],)
    for (nx, nw, nb), (has_w, has_b) in itertools.product(NEEDS, GIVEN):
        if not (nx or (nw and has_w) or (nb and has_b)):
            continue
        xn = rng.standard_normal(shape) * 3 + 2
        wn, bn = rng.standard_normal(pshape), rng.standard_normal(pshape)
        gn = rng.standard_normal(shape)
        ours = [from_np(xn.astype(np.float32), requires_grad=bool(nx)),
                from_np(wn.astype(np.float32), requires_grad=bool(nw)) if has_w else None,
                from_np(bn.astype(np.float32), requires_grad=bool(nb)) if has_b else None]
        theirs = [torch.tensor(xn, requires_grad=bool(nx)),
                  torch.tensor(wn, requires_grad=bool(nw)) if has_w else None,
                  torch.tensor(bn, requires_grad=bool(nb)) if has_b else None]
        fn = F.layer_norm if kind == "layer" else F.group_norm
        y = fn(ours[0], arg, ours[1], ours[2])
        y.backward(from_np(gn.astype(np.float32)))
        ref = _reference(kind, *theirs, arg)
        ref.backward(torch.tensor(gn))
        what = (kind, shape, (nx, nw, nb), (has_w, has_b))
        np.testing.assert_allclose(to_np(y), ref.detach().numpy(), rtol=1e-5, atol=1e-5,
                                   err_msg=str(what))
        for o, t in zip(ours, theirs):
            if t is None or not t.requires_grad:
                assert o is None or o.grad is None, what
            else:
                np.testing.assert_allclose(to_np(o.grad), t.grad.numpy(), rtol=1e-4,
                                           atol=1e-4, err_msg=str(what))


@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("shape,dim", [((4, 6, 9), -1), ((4, 6, 9), 1), ((5, 7), 0)])
def test_softmax_backward_matches_pytorch(be, log, shape, dim):
    rng = np.random.default_rng(3)
    xn = rng.standard_normal(shape) * 4
    gn = rng.standard_normal(shape)
    x = from_np(xn.astype(np.float32), requires_grad=True)
    fn = F.log_softmax if log else F.softmax
    y = fn(x, dim=dim)
    y.backward(from_np(gn.astype(np.float32)))
    t = torch.tensor(xn, requires_grad=True)
    r = (torch.log_softmax if log else torch.softmax)(t, dim=dim)
    r.backward(torch.tensor(gn))
    np.testing.assert_allclose(to_np(y), r.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(to_np(x.grad), t.grad.numpy(), rtol=1e-4, atol=1e-5)
