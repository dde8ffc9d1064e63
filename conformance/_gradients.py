"""Section 3, gradients: every differentiable primitive of the namespace and every
``nn.functional`` function, on the backend under test.

Each check (``gradients::NAME``) runs the function on small random inputs (drawn on the
reference backend, in the function's domain, away from its kinks) and

1. compares the output, and the gradient of ``sum(out * w)`` for a random ``w``, with the
   same computation on the reference (NumPy, float64): the distance is reported;
2. runs ``gradcheck`` (central finite differences) on the backend under test: float64,
   or float32 with looser tolerances where the backend has no float64;
3. runs ``gradgradcheck`` (second order) where the function has a useful second
   derivative and the backend has float64 (full run; the quick run samples a few).

The table ``TABLE`` is the list: one row per function (or option set). Functions that
are not differentiable or draw random numbers are listed in ``NOT_DIFFERENTIABLE`` with
the reason; the test suite checks that every ``nn.functional`` name is in one or the other.
"""

import interop as it
import interop.nn.functional as F
from interop.autograd import gradcheck, gradgradcheck

from ._core import Check, Mismatch, Skip


class A:
    """A float input: ``shape`` and a domain (real, pos, unit, ge1, gtm1, nonzero, prob,
    spd: a symmetric positive definite matrix, posdef batch...)."""

    def __init__(self, *shape, dom="real", grad=True):
        self.shape, self.dom, self.grad = shape, dom, grad


class Int:
    """A constant integer input (indices, targets)."""

    def __init__(self, values):
        self.values = values


class Row:
    def __init__(self, name, fn, *args, order2=True, quick=False, tol=1.0, gc=None):
        self.name, self.fn, self.args = name, fn, args
        self.order2, self.quick, self.tol, self.gc = order2, quick, tol, gc or {}


_LO_HI = {"real": (-2, 2), "pos": (0.3, 2), "unit": (-0.8, 0.8), "ge1": (1.2, 3),
          "gtm1": (-0.7, 2), "prob": (0.1, 0.9), "nonzero": (0.3, 2), "frac": (0.1, 0.4)}


def _make(ctx, spec, k):
    if isinstance(spec, Int):
        return it.asarray(spec.values, device=ctx.ref)
    if not isinstance(spec, A):
        return spec
    if spec.dom == "spd":
        n = spec.shape[-1]
        a = ctx.randn(*spec.shape, offset=k)
        return a @ a.mT + n * it.eye(n, dtype=it.float64, device=ctx.ref)
    lo, hi = _LO_HI[spec.dom]
    x = ctx.randn(*spec.shape, low=lo, high=hi, offset=k)
    if spec.dom == "nonzero":      # either sign, |x| >= 0.3
        s = ctx.randn(*spec.shape, offset=k + 50)
        x = it.where(s < 0, -x, x)
    if spec.dom == "frac":         # k + u, u in [0.1, 0.4]: away from the jumps at k and k + 0.5
        k = it.floor(ctx.randn(*spec.shape, low=-3, high=3, offset=k + 60))
        return k + x
    if spec.dom == "real":         # distinct values: no ties for max/sort/pooling
        x = x + it.reshape(it.arange(x.numel(), dtype=it.float64, device=ctx.ref),
                           tuple(x.shape)) * 1e-3
    return x


def _run(ctx, row):
    """One draw of inputs in the quick run, three in the full run (each its own seed)."""
    for draw in range(1 if ctx.quick else 3):
        _run_once(ctx, row, draw)


def _run_once(ctx, row, draw):
    refs = [_make(ctx, s, k + 1000 * draw) for k, s in enumerate(row.args)]
    ctx.note(draw=draw, inputs=[f"{list(r.shape)} {r.dtype.name}" if isinstance(r, it.Tensor)
                                else repr(r) for r in refs])
    diff = [isinstance(s, A) and s.grad for s in row.args]

    def call(tensors):
        xp = next(t for t in tensors if isinstance(t, it.Tensor)).__array_namespace__()
        out = row.fn(xp, *tensors)
        return out

    # 1. value and gradient of sum(out * w) against the reference (float64 on NumPy)
    ref_in = [r.detach().requires_grad_(d) if isinstance(r, it.Tensor) else r
              for r, d in zip(refs, diff)]
    ref_out = call(ref_in)
    w = ctx.randn(*ref_out.shape, offset=99 + 1000 * draw)
    ref_grads = it.autograd.grad((ref_out * w).sum(), [r for r, d in zip(ref_in, diff) if d],
                                 allow_unused=True)
    test_in = [ctx.on_test(r, requires_grad=d) if isinstance(r, it.Tensor) else r
               for r, d in zip(refs, diff)]
    out = call(test_in)
    if out.device != ctx.be.device:
        raise Mismatch(f"{row.name}: the result is on {out.device}, expected {ctx.be.device}")
    rtol, atol = ctx.tol(1e-8, 1e-9, 2e-4 * row.tol, 2e-5 * row.tol)
    ctx.assert_close(out, ref_out, rtol=rtol, atol=atol, what=f"{row.name} forward")
    grads = it.autograd.grad((out * ctx.on_test(w)).sum(),
                             [t for t, d in zip(test_in, diff) if d], allow_unused=True)
    for k, (g, rg) in enumerate(zip(grads, ref_grads)):
        if rg is None and g is None:
            continue
        if g is None or rg is None:
            raise Mismatch(f"{row.name}: gradient of input {k} is "
                           f"{'missing' if g is None else 'present'}, reference "
                           f"{'missing' if rg is None else 'present'}")
        ctx.assert_close(g, rg, rtol=rtol * 10, atol=atol * 10,
                         what=f"{row.name} gradient of input {k}")

    # 2. finite differences on the backend under test
    gc_in = [ctx.on_test(r, requires_grad=d) if isinstance(r, it.Tensor) else r
             for r, d in zip(refs, diff)]
    f = lambda *ts: call(list(ts))
    if ctx.f64:
        kw = dict(eps=1e-6, atol=1e-5, rtol=1e-3)
    else:
        kw = dict(eps=1e-3, atol=3e-2 * row.tol, rtol=3e-2 * row.tol)
    kw.update(row.gc)
    try:
        gradcheck(f, tuple(gc_in), **kw)
    except it.autograd.GradcheckError as e:
        raise Mismatch(f"{row.name}: gradcheck: {e}") from None
    # 3. second order
    if row.order2 and ctx.f64 and (not ctx.quick or row.quick):
        try:
            gradgradcheck(f, tuple(gc_in), **kw)
        except it.autograd.GradcheckError as e:
            raise Mismatch(f"{row.name}: gradgradcheck (second order): {e}") from None


R = Row
P = A            # (shorthand in the table)

TABLE = [
    # -- elementwise, one input
    R("exp", lambda xp, x: xp.exp(x), A(3, 4), quick=True),
    R("expm1", lambda xp, x: xp.expm1(x), A(3, 4)),
    R("log", lambda xp, x: xp.log(x), A(3, 4, dom="pos"), quick=True),
    R("log1p", lambda xp, x: xp.log1p(x), A(3, 4, dom="gtm1")),
    R("log2", lambda xp, x: xp.log2(x), A(3, 4, dom="pos")),
    R("log10", lambda xp, x: xp.log10(x), A(3, 4, dom="pos")),
    R("sqrt", lambda xp, x: xp.sqrt(x), A(3, 4, dom="pos")),
    R("sin", lambda xp, x: xp.sin(x), A(3, 4)),
    R("cos", lambda xp, x: xp.cos(x), A(3, 4)),
    R("tan", lambda xp, x: xp.tan(x), A(3, 4, dom="unit")),
    R("asin", lambda xp, x: xp.asin(x), A(3, 4, dom="unit")),
    R("acos", lambda xp, x: xp.acos(x), A(3, 4, dom="unit")),
    R("atan", lambda xp, x: xp.atan(x), A(3, 4)),
    R("sinh", lambda xp, x: xp.sinh(x), A(3, 4)),
    R("cosh", lambda xp, x: xp.cosh(x), A(3, 4)),
    R("tanh", lambda xp, x: xp.tanh(x), A(3, 4), quick=True),
    R("asinh", lambda xp, x: xp.asinh(x), A(3, 4)),
    R("acosh", lambda xp, x: xp.acosh(x), A(3, 4, dom="ge1")),
    R("atanh", lambda xp, x: xp.atanh(x), A(3, 4, dom="unit")),
    R("abs", lambda xp, x: xp.abs(x), A(3, 4, dom="nonzero")),
    R("square", lambda xp, x: xp.square(x), A(3, 4)),
    R("negative", lambda xp, x: xp.negative(x), A(3, 4)),
    R("reciprocal", lambda xp, x: xp.reciprocal(x), A(3, 4, dom="pos")),
    R("sign", lambda xp, x: xp.sign(x) * x, A(3, 4, dom="nonzero")),
    R("round", lambda xp, x: xp.round(x) + x, A(3, 4, dom="frac")),
    R("floor", lambda xp, x: xp.floor(x) + x, A(3, 4, dom="frac")),
    R("ceil", lambda xp, x: xp.ceil(x) + x, A(3, 4, dom="frac")),
    R("trunc", lambda xp, x: xp.trunc(x) + x, A(3, 4, dom="frac")),
    R("sigmoid", lambda xp, x: it.sigmoid(x), A(3, 4)),
    R("erf", lambda xp, x: it.erf(x), A(3, 4)),
    R("erfc", lambda xp, x: it.erfc(x), A(3, 4)),
    R("erfinv", lambda xp, x: it.erfinv(x), A(3, 4, dom="unit")),
    R("special.erfcx", lambda xp, x: it.special.erfcx(x), A(3, 4)),
    R("special.ndtr", lambda xp, x: it.special.ndtr(x), A(3, 4)),
    R("special.log_ndtr", lambda xp, x: it.special.log_ndtr(x), A(3, 4)),
    R("special.ndtri", lambda xp, x: it.special.ndtri(x), A(3, 4, dom="prob")),
    R("logit", lambda xp, x: it.logit(x), A(3, 4, dom="prob")),
    R("xlogy", lambda xp, a, b: it.xlogy(a, b), A(3, 4, dom="nonzero"), A(3, 4, dom="pos")),
    # -- elementwise, two inputs (with broadcasting)
    R("add", lambda xp, a, b: xp.add(a, b), A(3, 1), A(1, 4), quick=True),
    R("subtract", lambda xp, a, b: xp.subtract(a, b), A(3, 4), A(4)),
    R("multiply", lambda xp, a, b: xp.multiply(a, b), A(3, 4), A(3, 1), quick=True),
    R("divide", lambda xp, a, b: xp.divide(a, b), A(3, 4), A(3, 4, dom="pos")),
    R("pow", lambda xp, a, b: xp.pow(a, b), A(3, 4, dom="pos"), A(3, 4)),
    R("pow[scalar]", lambda xp, a: a ** 3, A(3, 4)),
    R("atan2", lambda xp, a, b: xp.atan2(a, b), A(3, 4, dom="nonzero"), A(3, 4, dom="nonzero")),
    R("maximum", lambda xp, a, b: xp.maximum(a, b), A(3, 4), A(3, 4)),
    R("minimum", lambda xp, a, b: xp.minimum(a, b), A(3, 4), A(3, 4)),
    R("hypot", lambda xp, a, b: xp.hypot(a, b), A(3, 4, dom="nonzero"), A(3, 4)),
    R("copysign", lambda xp, a, b: xp.copysign(a, b), A(3, 4, dom="nonzero"),
      A(3, 4, dom="nonzero")),
    R("logaddexp", lambda xp, a, b: xp.logaddexp(a, b), A(3, 4), A(3, 4)),
    R("remainder", lambda xp, a, b: xp.remainder(a, b), A(3, 4), A(3, 4, dom="ge1", grad=False)),
    R("floor_divide", lambda xp, a, b: xp.floor_divide(a, b) + a, A(3, 4),
      A(3, 4, dom="ge1", grad=False)),
    R("where", lambda xp, a, b: xp.where(a > 0, a, b), A(3, 4, dom="nonzero"), A(3, 4)),
    R("clip", lambda xp, x: xp.clip(x, -1.0, 1.0), A(3, 4)),
    R("lerp", lambda xp, a, b, w: it.lerp(a, b, w), A(3, 4), A(3, 4), A(3, 4, dom="prob")),
    R("addcmul", lambda xp, a, b, c: it.addcmul(a, b, c, value=0.5), A(3, 4), A(3, 4), A(3, 4)),
    R("addcdiv", lambda xp, a, b, c: it.addcdiv(a, b, c, value=0.5), A(3, 4), A(3, 4),
      A(3, 4, dom="pos")),
    # -- reductions and scans
    R("sum", lambda xp, x: xp.sum(x, axis=1), A(3, 4), quick=True),
    R("prod", lambda xp, x: xp.prod(x, axis=1), A(3, 4, dom="nonzero")),
    R("mean", lambda xp, x: xp.mean(x, axis=0, keepdims=True), A(3, 4)),
    R("std", lambda xp, x: xp.std(x, axis=1, correction=1), A(3, 4)),
    R("var", lambda xp, x: xp.var(x, axis=0), A(3, 4)),
    R("max", lambda xp, x: xp.max(x, axis=1), A(3, 4)),
    R("min", lambda xp, x: xp.min(x, axis=0), A(3, 4)),
    R("cumulative_sum", lambda xp, x: xp.cumulative_sum(x, axis=1), A(3, 4)),
    R("cumulative_prod", lambda xp, x: xp.cumulative_prod(x, axis=1), A(3, 4, dom="nonzero")),
    R("logsumexp", lambda xp, x: it.logsumexp(x, 1), A(3, 4)),
    R("linalg.vector_norm", lambda xp, x: xp.linalg.vector_norm(x, axis=1), A(3, 4)),
    R("linalg.matrix_norm", lambda xp, x: xp.linalg.matrix_norm(x), A(3, 4)),
    # -- linear algebra
    R("matmul", lambda xp, a, b: xp.matmul(a, b), A(2, 3, 4), A(4, 2), quick=True),
    R("tensordot", lambda xp, a, b: xp.tensordot(a, b, axes=1), A(3, 4), A(4, 2)),
    R("vecdot", lambda xp, a, b: xp.vecdot(a, b), A(3, 4), A(3, 4)),
    R("linalg.outer", lambda xp, a, b: xp.linalg.outer(a, b), A(3), A(4)),
    R("linalg.cross", lambda xp, a, b: xp.linalg.cross(a, b), A(2, 3), A(2, 3)),
    R("linalg.inv", lambda xp, x: xp.linalg.inv(x), A(3, 3, dom="spd"), quick=True),
    R("linalg.det", lambda xp, x: xp.linalg.det(x), A(3, 3, dom="spd")),
    R("linalg.slogdet", lambda xp, x: xp.linalg.slogdet(x)[1], A(3, 3, dom="spd")),
    R("linalg.solve", lambda xp, a, b: xp.linalg.solve(a, b), A(3, 3, dom="spd"), A(3, 2)),
    # (symmetrized: these read one triangle, so only symmetric perturbations are defined)
    R("linalg.cholesky", lambda xp, x: xp.linalg.cholesky((x + x.mT) / 2), A(3, 3, dom="spd")),
    R("linalg.eigvalsh", lambda xp, x: xp.linalg.eigvalsh((x + x.mT) / 2), A(3, 3, dom="spd")),
    R("linalg.svdvals", lambda xp, x: xp.linalg.svdvals(x), A(3, 4)),
    R("linalg.qr", lambda xp, x: xp.linalg.qr(x)[1], A(4, 3), tol=5),
    R("linalg.pinv", lambda xp, x: xp.linalg.pinv(x), A(3, 4), tol=5),
    R("linalg.matrix_power", lambda xp, x: xp.linalg.matrix_power(x, 3), A(3, 3)),
    R("linalg.trace", lambda xp, x: xp.linalg.trace(x), A(3, 3)),
    R("linalg.diagonal", lambda xp, x: xp.linalg.diagonal(x), A(3, 4)),
    # -- shape and indexing
    R("reshape", lambda xp, x: xp.reshape(x, (4, 3)), A(3, 4)),
    R("permute_dims", lambda xp, x: xp.permute_dims(x, (2, 0, 1)), A(2, 3, 2)),
    R("concat", lambda xp, a, b: xp.concat([a, b], axis=1), A(2, 3), A(2, 2)),
    R("stack", lambda xp, a, b: xp.stack([a, b], axis=1), A(2, 3), A(2, 3)),
    R("flip", lambda xp, x: xp.flip(x, axis=1), A(3, 4)),
    R("roll", lambda xp, x: xp.roll(x, 2, axis=1), A(3, 4)),
    R("expand_dims", lambda xp, x: xp.expand_dims(x, axis=1), A(3, 4)),
    R("squeeze", lambda xp, x: xp.squeeze(x, axis=1), A(3, 1, 4)),
    R("broadcast_to", lambda xp, x: xp.broadcast_to(x, (2, 3, 4)), A(3, 1)),
    R("tile", lambda xp, x: xp.tile(x, (2, 1)), A(3, 2)),
    R("repeat", lambda xp, x: xp.repeat(x, 2, axis=0), A(3, 2)),
    R("moveaxis", lambda xp, x: xp.moveaxis(x, 0, -1), A(2, 3, 2)),
    R("take", lambda xp, x, i: xp.take(x, i, axis=1), A(3, 4), Int([3, 0, 3])),
    R("take_along_axis", lambda xp, x, i: xp.take_along_axis(x, i, axis=1), A(3, 4),
      Int([[1, 1], [0, 3], [2, 2]])),
    R("sort", lambda xp, x: xp.sort(x, axis=1), A(3, 4)),
    R("tril", lambda xp, x: xp.tril(x), A(3, 4)),
    R("triu", lambda xp, x: xp.triu(x, k=1), A(3, 4)),
    R("getitem[basic]", lambda xp, x: x[1:, ::2], A(3, 4), quick=True),
    R("getitem[advanced]", lambda xp, x, i: x[i, 1:], A(3, 4), Int([2, 0, 2])),
    R("getitem[mask]", lambda xp, x: x[x > 0], A(3, 4)),
    R("gather", lambda xp, x, i: it.gather(x, 1, i), A(3, 4), Int([[1, 1], [0, 3], [2, 2]])),
    R("index_select", lambda xp, x, i: it.index_select(x, 0, i), A(3, 4), Int([2, 0, 2])),
    R("scatter_add", lambda xp, x, s: it.scatter_add(x, 1, it.asarray([[0, 0], [1, 3], [2, 2]],
                                                                       device=x.device), s),
      A(3, 4), A(3, 2)),
    R("index_add", lambda xp, x, s: it.index_add(x, 0, it.asarray([2, 0, 2], device=x.device), s),
      A(3, 4), A(3, 4)),
    R("masked_fill", lambda xp, x: it.masked_fill(x, x > 0, 0.5), A(3, 4)),
    R("fft.rfft", lambda xp, x: xp.abs(xp.fft.rfft(x)), A(2, 6), tol=5),
    R("fft.fft+ifft", lambda xp, x: xp.real(xp.fft.ifft(xp.fft.fft(x) * 2)), A(2, 5)),
    # -- nn.functional: activations
    R("F.relu", lambda xp, x: F.relu(x), A(3, 4, dom="nonzero"), quick=True),
    R("F.relu6", lambda xp, x: F.relu6(x * 4), A(3, 4, dom="nonzero")),
    R("F.gelu", lambda xp, x: F.gelu(x), A(3, 4), quick=True),
    R("F.gelu[tanh]", lambda xp, x: F.gelu(x, approximate="tanh"), A(3, 4)),
    R("F.silu", lambda xp, x: F.silu(x), A(3, 4)),
    R("F.elu", lambda xp, x: F.elu(x, alpha=0.7), A(3, 4, dom="nonzero")),
    R("F.selu", lambda xp, x: F.selu(x), A(3, 4, dom="nonzero")),
    R("F.celu", lambda xp, x: F.celu(x, alpha=1.3), A(3, 4, dom="nonzero")),
    R("F.leaky_relu", lambda xp, x: F.leaky_relu(x, 0.1), A(3, 4, dom="nonzero")),
    R("F.softplus", lambda xp, x: F.softplus(x, beta=2.0), A(3, 4)),
    R("F.softsign", lambda xp, x: F.softsign(x), A(3, 4)),
    R("F.hardtanh", lambda xp, x: F.hardtanh(x), A(3, 4, dom="frac")),
    R("F.hardsigmoid", lambda xp, x: F.hardsigmoid(x), A(3, 4, dom="nonzero")),
    R("F.hardswish", lambda xp, x: F.hardswish(x), A(3, 4, dom="nonzero")),
    R("F.mish", lambda xp, x: F.mish(x), A(3, 4)),
    R("F.logsigmoid", lambda xp, x: F.logsigmoid(x), A(3, 4)),
    R("F.tanhshrink", lambda xp, x: F.tanhshrink(x), A(3, 4)),
    R("F.softshrink", lambda xp, x: F.softshrink(x, 0.2), A(3, 4, dom="nonzero")),
    R("F.hardshrink", lambda xp, x: F.hardshrink(x, 0.2), A(3, 4, dom="nonzero")),
    R("F.threshold", lambda xp, x: F.threshold(x, 0.1, -1.0), A(3, 4, dom="nonzero")),
    R("F.rrelu[eval]", lambda xp, x: F.rrelu(x, training=False), A(3, 4, dom="nonzero")),
    R("F.prelu", lambda xp, x, w: F.prelu(x, w), A(2, 3, 4, dom="nonzero"), A(3)),
    R("F.glu", lambda xp, x: F.glu(x, dim=-1), A(3, 4)),
    R("F.sigmoid", lambda xp, x: F.sigmoid(x), A(3, 4)),
    R("F.tanh", lambda xp, x: F.tanh(x), A(3, 4)),
    R("F.softmax", lambda xp, x: F.softmax(x, dim=1), A(3, 4), quick=True),
    R("F.log_softmax", lambda xp, x: F.log_softmax(x, dim=0), A(3, 4)),
    R("F.softmin", lambda xp, x: F.softmin(x, dim=1), A(3, 4)),
    R("F.normalize", lambda xp, x: F.normalize(x, dim=1), A(3, 4)),
    R("F.cosine_similarity", lambda xp, a, b: F.cosine_similarity(a, b, dim=1), A(3, 4), A(3, 4)),
    R("F.pairwise_distance", lambda xp, a, b: F.pairwise_distance(a, b), A(3, 4), A(3, 4)),
    R("F.pdist", lambda xp, x: F.pdist(x), A(4, 3)),
    # -- nn.functional: linear, convolution, pooling
    R("F.linear", lambda xp, x, w, b: F.linear(x, w, b), A(2, 3), A(4, 3), A(4), quick=True),
    R("F.bilinear", lambda xp, a, b, w: F.bilinear(a, b, w), A(2, 3), A(2, 2), A(2, 3, 2)),
    R("F.conv1d", lambda xp, x, w, b: F.conv1d(x, w, b, stride=2, padding=1), A(2, 2, 7),
      A(3, 2, 3), A(3)),
    R("F.conv2d", lambda xp, x, w, b: F.conv2d(x, w, b, padding=1), A(1, 2, 4, 4), A(2, 2, 3, 3),
      A(2), quick=True),
    R("F.conv2d[groups,dilation]", lambda xp, x, w: F.conv2d(x, w, groups=2, dilation=2),
      A(1, 4, 5, 5), A(2, 2, 2, 2)),
    R("F.conv3d", lambda xp, x, w: F.conv3d(x, w), A(1, 1, 3, 3, 3), A(2, 1, 2, 2, 2)),
    R("F.conv_transpose1d", lambda xp, x, w: F.conv_transpose1d(x, w, stride=2), A(1, 2, 4),
      A(2, 3, 3)),
    R("F.conv_transpose2d", lambda xp, x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1),
      A(1, 2, 3, 3), A(2, 2, 3, 3), A(2)),
    R("F.conv_transpose3d", lambda xp, x, w: F.conv_transpose3d(x, w), A(1, 1, 2, 2, 2),
      A(1, 2, 2, 2, 2)),
    R("F.max_pool1d", lambda xp, x: F.max_pool1d(x, 2), A(1, 2, 6)),
    R("F.max_pool2d", lambda xp, x: F.max_pool2d(x, 2, stride=1), A(1, 2, 4, 4), quick=True),
    R("F.max_pool3d", lambda xp, x: F.max_pool3d(x, 2), A(1, 1, 4, 4, 4)),
    R("F.avg_pool1d", lambda xp, x: F.avg_pool1d(x, 3, stride=2, padding=1), A(1, 2, 6)),
    R("F.avg_pool2d", lambda xp, x: F.avg_pool2d(x, 2, ceil_mode=True), A(1, 2, 5, 5)),
    R("F.avg_pool3d", lambda xp, x: F.avg_pool3d(x, 2), A(1, 1, 4, 4, 4)),
    R("F.lp_pool1d", lambda xp, x: F.lp_pool1d(x, 2, 2), A(1, 2, 6, dom="pos")),
    R("F.lp_pool2d", lambda xp, x: F.lp_pool2d(x, 2, 2), A(1, 2, 4, 4, dom="pos")),
    R("F.lp_pool3d", lambda xp, x: F.lp_pool3d(x, 2, 2), A(1, 1, 2, 4, 4, dom="pos")),
    R("F.adaptive_avg_pool1d", lambda xp, x: F.adaptive_avg_pool1d(x, 3), A(1, 2, 7)),
    R("F.adaptive_avg_pool2d", lambda xp, x: F.adaptive_avg_pool2d(x, (2, 3)), A(1, 2, 5, 5)),
    R("F.adaptive_avg_pool3d", lambda xp, x: F.adaptive_avg_pool3d(x, 2), A(1, 1, 3, 3, 3)),
    R("F.adaptive_max_pool1d", lambda xp, x: F.adaptive_max_pool1d(x, 3), A(1, 2, 7)),
    R("F.adaptive_max_pool2d", lambda xp, x: F.adaptive_max_pool2d(x, 2), A(1, 2, 5, 5)),
    R("F.adaptive_max_pool3d", lambda xp, x: F.adaptive_max_pool3d(x, 2), A(1, 1, 3, 3, 3)),
    R("F.max_unpool2d", lambda xp, x: F.max_unpool2d(*F.max_pool2d(x, 2, return_indices=True), 2),
      A(1, 1, 4, 4)),
    R("F.max_unpool1d", lambda xp, x: F.max_unpool1d(*F.max_pool1d(x, 2, return_indices=True), 2),
      A(1, 1, 6)),
    R("F.max_unpool3d", lambda xp, x: F.max_unpool3d(*F.max_pool3d(x, 2, return_indices=True), 2),
      A(1, 1, 2, 2, 2)),
    # -- nn.functional: normalization, embedding, shape
    R("F.batch_norm", lambda xp, x, w, b: F.batch_norm(x, None, None, w, b, training=True),
      A(4, 3, 2), A(3), A(3), quick=True),
    R("F.layer_norm", lambda xp, x, w, b: F.layer_norm(x, (4,), w, b), A(3, 4), A(4), A(4),
      quick=True),
    R("F.group_norm", lambda xp, x, w, b: F.group_norm(x, 2, w, b), A(2, 4, 3), A(4), A(4)),
    R("F.instance_norm", lambda xp, x: F.instance_norm(x), A(2, 3, 4)),
    R("F.rms_norm", lambda xp, x, w: F.rms_norm(x, (4,), w), A(3, 4), A(4)),
    R("F.local_response_norm", lambda xp, x: F.local_response_norm(x, 3), A(1, 4, 3)),
    R("F.embedding", lambda xp, w: F.embedding(it.asarray([[1, 3], [1, 0]], device=w.device), w),
      A(5, 3), quick=True),
    R("F.embedding_bag", lambda xp, w: F.embedding_bag(it.asarray([[1, 3], [1, 0]],
                                                                  device=w.device), w),
      A(5, 3)),
    R("F.pad[constant]", lambda xp, x: F.pad(x, (1, 2), value=0.5), A(2, 3)),
    R("F.pad[reflect]", lambda xp, x: F.pad(x, (2, 1), mode="reflect"), A(1, 2, 4)),
    R("F.pad[replicate]", lambda xp, x: F.pad(x, (1, 1, 2, 0), mode="replicate"), A(1, 1, 3, 3)),
    R("F.pad[circular]", lambda xp, x: F.pad(x, (1, 2), mode="circular"), A(1, 2, 4)),
    R("F.interpolate[nearest]", lambda xp, x: F.interpolate(x, scale_factor=2), A(1, 1, 3, 3)),
    R("F.interpolate[bilinear]", lambda xp, x: F.interpolate(x, size=(5, 4), mode="bilinear",
                                                             align_corners=False), A(1, 1, 3, 3)),
    R("F.interpolate[bicubic]", lambda xp, x: F.interpolate(x, size=(4, 4), mode="bicubic",
                                                            align_corners=True), A(1, 1, 3, 3)),
    R("F.interpolate[linear]", lambda xp, x: F.interpolate(x, size=7, mode="linear"), A(1, 2, 4)),
    R("F.interpolate[trilinear]", lambda xp, x: F.interpolate(x, scale_factor=2,
                                                              mode="trilinear"), A(1, 1, 2, 2, 2)),
    R("F.upsample", lambda xp, x: F.upsample(x, scale_factor=2), A(1, 1, 2, 3)),
    R("F.upsample_nearest", lambda xp, x: F.upsample_nearest(x, scale_factor=2), A(1, 1, 2, 3)),
    R("F.upsample_bilinear", lambda xp, x: F.upsample_bilinear(x, scale_factor=2), A(1, 1, 2, 3)),
    R("F.grid_sample", lambda xp, x, g: F.grid_sample(x, g * 0.9, align_corners=False),
      A(1, 1, 3, 3), A(1, 2, 2, 2, dom="unit")),
    R("F.affine_grid", lambda xp, t: F.affine_grid(t, (1, 1, 3, 4), align_corners=False),
      A(1, 2, 3)),
    R("F.pixel_shuffle", lambda xp, x: F.pixel_shuffle(x, 2), A(1, 4, 2, 2)),
    R("F.pixel_unshuffle", lambda xp, x: F.pixel_unshuffle(x, 2), A(1, 1, 4, 2)),
    R("F.channel_shuffle", lambda xp, x: F.channel_shuffle(x, 2), A(1, 4, 2)),
    R("F.native_channel_shuffle", lambda xp, x: F.native_channel_shuffle(x, 2), A(1, 4, 2)),
    R("F.unfold", lambda xp, x: F.unfold(x, 2, stride=1), A(1, 2, 3, 3)),
    R("F.fold", lambda xp, x: F.fold(x, (3, 3), 2), A(1, 8, 4)),
    R("F.dropout[eval]", lambda xp, x: F.dropout(x, 0.5, training=False), A(3, 4)),
    R("F.dropout1d[eval]", lambda xp, x: F.dropout1d(x, 0.5, training=False), A(2, 3, 4)),
    R("F.dropout2d[eval]", lambda xp, x: F.dropout2d(x, 0.5, training=False), A(1, 2, 3, 4)),
    R("F.dropout3d[eval]", lambda xp, x: F.dropout3d(x, 0.5, training=False), A(1, 2, 2, 2, 2)),
    R("F.alpha_dropout[eval]", lambda xp, x: F.alpha_dropout(x, 0.5, training=False), A(3, 4)),
    R("F.feature_alpha_dropout[eval]", lambda xp, x: F.feature_alpha_dropout(x, 0.5,
                                                                             training=False),
      A(2, 3, 4)),
    R("F.scaled_dot_product_attention",
      lambda xp, q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
      A(1, 2, 3, 4), A(1, 2, 3, 4), A(1, 2, 3, 4), quick=True),
    R("F.multi_head_attention_forward",
      lambda xp, q, w, b, ow: F.multi_head_attention_forward(
          q, q, q, 4, 2, w, b, None, None, False, 0.0, ow, None, training=False,
          need_weights=False)[0], A(3, 1, 4), A(12, 4), A(12), A(4, 4), order2=False),
    # -- nn.functional: losses
    R("F.cross_entropy", lambda xp, x: F.cross_entropy(x, it.asarray([1, 0, 3], device=x.device)),
      A(3, 4), quick=True),
    R("F.cross_entropy[smoothing,weight]",
      lambda xp, x, w: F.cross_entropy(x, it.asarray([1, 0, 3], device=x.device), weight=w,
                                       label_smoothing=0.1), A(3, 4), A(4, dom="pos", grad=False)),
    R("F.cross_entropy[probs]", lambda xp, x, p: F.cross_entropy(x, F.softmax(p, dim=1)),
      A(3, 4), A(3, 4)),
    R("F.nll_loss", lambda xp, x: F.nll_loss(x, it.asarray([1, 0, 3], device=x.device),
                                             reduction="sum"), A(3, 4)),
    R("F.mse_loss", lambda xp, a, b: F.mse_loss(a, b), A(3, 4), A(3, 4), quick=True),
    R("F.l1_loss", lambda xp, a, b: F.l1_loss(a, b), A(3, 4), A(3, 4)),
    R("F.smooth_l1_loss", lambda xp, a, b: F.smooth_l1_loss(a, b, beta=0.5), A(3, 4), A(3, 4)),
    R("F.huber_loss", lambda xp, a, b: F.huber_loss(a, b, delta=0.5), A(3, 4), A(3, 4)),
    R("F.binary_cross_entropy", lambda xp, p, t: F.binary_cross_entropy(p, t),
      A(3, 4, dom="prob"), A(3, 4, dom="prob")),
    R("F.binary_cross_entropy_with_logits",
      lambda xp, x, t, w: F.binary_cross_entropy_with_logits(x, t, pos_weight=w),
      A(3, 4), A(3, 4, dom="prob"), A(4, dom="pos", grad=False)),
    R("F.kl_div", lambda xp, a, b: F.kl_div(F.log_softmax(a, dim=1), F.softmax(b, dim=1),
                                            reduction="batchmean"), A(3, 4), A(3, 4)),
    R("F.poisson_nll_loss", lambda xp, a, b: F.poisson_nll_loss(a, b), A(3, 4), A(3, 4, dom="pos")),
    R("F.gaussian_nll_loss", lambda xp, a, b, v: F.gaussian_nll_loss(a, b, v), A(3, 4), A(3, 4),
      A(3, 4, dom="pos")),
    R("F.hinge_embedding_loss", lambda xp, x: F.hinge_embedding_loss(
        x, it.asarray([[1, -1, 1, -1]] * 3, device=x.device)), A(3, 4, dom="pos")),
    R("F.margin_ranking_loss", lambda xp, a, b: F.margin_ranking_loss(
        a, b, it.asarray([1, -1, 1], device=a.device), margin=0.1), A(3), A(3)),
    R("F.soft_margin_loss", lambda xp, x: F.soft_margin_loss(
        x, it.asarray([[1, -1, 1, -1]] * 3, device=x.device)), A(3, 4)),
    R("F.multilabel_soft_margin_loss", lambda xp, x: F.multilabel_soft_margin_loss(
        x, it.asarray([[1, 0, 1, 0]] * 3, device=x.device)), A(3, 4)),
    R("F.multilabel_margin_loss", lambda xp, x: F.multilabel_margin_loss(
        x, it.asarray([[3, 0, -1, 1]] * 3, device=x.device)), A(3, 4)),
    R("F.multi_margin_loss", lambda xp, x: F.multi_margin_loss(
        x, it.asarray([1, 0, 3], device=x.device)), A(3, 4)),
    R("F.cosine_embedding_loss", lambda xp, a, b: F.cosine_embedding_loss(
        a, b, it.asarray([1, -1, 1], device=a.device)), A(3, 4), A(3, 4)),
    R("F.triplet_margin_loss", lambda xp, a, p, n: F.triplet_margin_loss(a, p, n, margin=3.0),
      A(3, 4), A(3, 4), A(3, 4)),
    R("F.triplet_margin_with_distance_loss", lambda xp, a, p, n:
      F.triplet_margin_with_distance_loss(a, p, n, margin=3.0), A(3, 4), A(3, 4), A(3, 4)),
    R("F.ctc_loss", lambda xp, x: F.ctc_loss(F.log_softmax(x, dim=2),
                                             it.asarray([[1, 2]], device=x.device),
                                             it.asarray([5], device=x.device),
                                             it.asarray([2], device=x.device)), A(5, 1, 3),
      order2=False),
]

# nn.functional names with no gradient check, and why.
NOT_DIFFERENTIABLE = {
    "one_hot": "integer output",
    "dropout": "random (checked in eval mode as F.dropout[eval])",
    "dropout1d": "random (checked in eval mode)", "dropout2d": "random (checked in eval mode)",
    "dropout3d": "random (checked in eval mode)", "alpha_dropout": "random (checked in eval mode)",
    "feature_alpha_dropout": "random (checked in eval mode)",
    "rrelu": "random in training (checked in eval mode)",
    "gumbel_softmax": "random", "fractional_max_pool2d": "random pooling regions",
    "fractional_max_pool3d": "random pooling regions",
    "fractional_max_pool2d_with_indices": "random pooling regions",
    "fractional_max_pool3d_with_indices": "random pooling regions",
    "max_pool1d_with_indices": "the same function as max_pool1d (checked)",
    "max_pool2d_with_indices": "the same function as max_pool2d (checked)",
    "max_pool3d_with_indices": "the same function as max_pool3d (checked)",
    "adaptive_max_pool1d_with_indices": "the same function as adaptive_max_pool1d (checked)",
    "adaptive_max_pool2d_with_indices": "the same function as adaptive_max_pool2d (checked)",
    "adaptive_max_pool3d_with_indices": "the same function as adaptive_max_pool3d (checked)",
    "relu_": "in-place form of relu (checked)", "elu_": "in-place form of elu (checked)",
    "celu_": "in-place form of celu (checked)", "selu_": "in-place form of selu (checked)",
    "leaky_relu_": "in-place form of leaky_relu (checked)",
    "hardtanh_": "in-place form of hardtanh (checked)",
    "threshold_": "in-place form of threshold (checked)",
    "rrelu_": "in-place form of rrelu (checked)",
}


def _check(row):
    return lambda ctx: _run(ctx, row)


def checks():
    # every row is in the quick sample (first order is cheap); second order there only for
    # the rows marked quick
    return [Check("gradients", row.name, _check(row)) for row in TABLE]
