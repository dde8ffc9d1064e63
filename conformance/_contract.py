"""Section 1, the backend contract: what interop needs from the namespace underneath.

* ``function[NAME]``: every function of the standard that interop may call is present,
  and on a fixed input it returns what NumPy (the reference) returns, to the precision of
  the test dtype. A missing or wrong function here is a *root cause*: later checks that
  fail after calling it are reported as blocked by it.
* ``dtype[NAME]``: which dtypes the namespace has (float64 missing is allowed: the suite
  then runs in float32 with looser tolerances, and says so).
* ``info`` and ``device``: ``__array_namespace_info__`` and the device arrays land on.
* ``rng``: interop's random numbers on this backend are reproducible from a seed.
* ``kernel[NAME]``: each named kernel's installed path (native or registered) agrees with
  the standard-only fallback on the same inputs.
"""

import math

import interop as it
from interop.backends import KERNELS

from ._core import Check, Mismatch, Skip

# Elementwise functions: name -> input domain. Domains: real (any), unit (-1, 1),
# pos (> 0), ge1 (>= 1), gtm1 (> -1), bool, int (small non-negative integers).
UNARY = {
    "abs": "real", "acos": "unit", "acosh": "ge1", "asin": "unit", "asinh": "real",
    "atan": "real", "atanh": "unit", "ceil": "real", "cos": "real", "cosh": "real",
    "exp": "real", "expm1": "real", "floor": "real", "isfinite": "real", "isinf": "real",
    "isnan": "real", "log": "pos", "log1p": "gtm1", "log2": "pos", "log10": "pos",
    "logical_not": "bool", "negative": "real", "positive": "real", "round": "real",
    "sign": "real", "signbit": "real", "sin": "real", "sinh": "real", "sqrt": "pos",
    "square": "real", "tan": "unit", "tanh": "real", "trunc": "real", "real": "complex",
    "imag": "complex", "conj": "complex", "reciprocal": "pos", "bitwise_invert": "int",
}
BINARY = {
    "add": "real", "subtract": "real", "multiply": "real", "divide": "pos", "pow": "pos",
    "atan2": "real", "maximum": "real", "minimum": "real", "hypot": "real",
    "copysign": "real", "logaddexp": "real", "remainder": "pos", "floor_divide": "pos",
    "nextafter": "real", "equal": "real", "not_equal": "real", "less": "real",
    "less_equal": "real", "greater": "real", "greater_equal": "real",
    "logical_and": "bool", "logical_or": "bool", "logical_xor": "bool",
    "bitwise_and": "int", "bitwise_or": "int", "bitwise_xor": "int",
    "bitwise_left_shift": "int", "bitwise_right_shift": "int",
}
# Reductions and scans over the last axis of a (3, 4) input.
REDUCE = ("sum", "prod", "mean", "std", "var", "max", "min", "argmax", "argmin",
          "cumulative_sum", "cumulative_prod", "count_nonzero", "diff", "all", "any")
BOOL_REDUCE = ("all", "any")


def _mat(ctx, n=3, m=3, spd=False, offset=0):
    a = ctx.randn(n, m, offset=offset)
    if spd:
        a = a @ a.mT + n * it.eye(n, dtype=it.float64, device=ctx.ref)
    return a


# Other functions: name -> (args(ctx) as reference tensors or Python values, kwargs).
# Each entry calls the namespace function with the same arguments on both backends.
OTHER = {
    "matmul": lambda c: ((_mat(c, 3, 4), _mat(c, 4, 2, offset=1)), {}),
    "tensordot": lambda c: ((_mat(c, 3, 4), _mat(c, 4, 2, offset=1)), {"axes": 1}),
    "vecdot": lambda c: ((_mat(c, 3, 4), _mat(c, 3, 4, offset=1)), {}),
    "matrix_transpose": lambda c: ((_mat(c, 3, 4),), {}),
    "reshape": lambda c: ((_mat(c, 3, 4), (2, 6)), {}),
    "permute_dims": lambda c: ((c.randn(2, 3, 4), (2, 0, 1)), {}),
    "expand_dims": lambda c: ((_mat(c),), {"axis": 1}),
    "squeeze": lambda c: ((c.randn(3, 1, 2),), {"axis": 1}),
    "concat": lambda c: (([_mat(c), _mat(c, offset=1)],), {"axis": 1}),
    "stack": lambda c: (([_mat(c), _mat(c, offset=1)],), {"axis": 0}),
    "flip": lambda c: ((_mat(c),), {"axis": 0}),
    "roll": lambda c: ((_mat(c),), {"shift": 1, "axis": 1}),
    "broadcast_to": lambda c: ((c.randn(1, 3), (2, 3)), {}),
    "tile": lambda c: ((_mat(c), (2, 1)), {}),
    "repeat": lambda c: ((_mat(c), 2), {"axis": 0}),
    "moveaxis": lambda c: ((c.randn(2, 3, 4), 0, -1), {}),
    "take": lambda c: ((_mat(c), it.asarray([2, 0, 0], device=c.ref)), {"axis": 1}),
    "take_along_axis": lambda c: ((_mat(c), it.asarray([[2], [0], [1]], device=c.ref)),
                                  {"axis": 1}),
    "where": lambda c: ((_mat(c) > 0, _mat(c), _mat(c, offset=1)), {}),
    "clip": lambda c: ((_mat(c),), {"min": -0.5, "max": 0.5}),
    "sort": lambda c: ((_mat(c),), {"axis": -1}),
    "argsort": lambda c: ((_mat(c),), {"axis": -1}),
    "searchsorted": lambda c: ((it.asarray([0.0, 1.0, 2.0, 3.0], dtype=it.float64,
                                           device=c.ref), it.asarray([0.5, 2.0, 7.0],
                                                                     dtype=it.float64,
                                                                     device=c.ref)), {}),
    "unique_values": lambda c: ((it.asarray([3.0, 1.0, 3.0, 2.0], dtype=it.float64,
                                            device=c.ref),), {}),
    "nonzero": lambda c: ((_mat(c) > 0,), {}),
    "tril": lambda c: ((_mat(c),), {}),
    "triu": lambda c: ((_mat(c),), {}),
    "arange": lambda c: ((0.0, 2.0, 0.5), {}),
    "linspace": lambda c: ((0.0, 1.0, 5), {}),
    "eye": lambda c: ((3, 4), {"k": 1}),
    "full": lambda c: (((2, 3), 1.5), {}),
    "ones": lambda c: (((2, 3),), {}),
    "zeros": lambda c: (((2, 3),), {}),
    "zeros_like": lambda c: ((_mat(c),), {}),
    "ones_like": lambda c: ((_mat(c),), {}),
    "full_like": lambda c: ((_mat(c), 2.0), {}),
    "meshgrid": lambda c: ((c.randn(3), c.randn(2, offset=1)), {"indexing": "ij"}),
    "linalg.cholesky": lambda c: ((_mat(c, spd=True),), {}),
    "linalg.det": lambda c: ((_mat(c),), {}),
    "linalg.inv": lambda c: ((_mat(c, spd=True),), {}),
    "linalg.solve": lambda c: ((_mat(c, spd=True), _mat(c, 3, 2, offset=1)), {}),
    "linalg.eigvalsh": lambda c: ((_mat(c, spd=True),), {}),
    "linalg.svdvals": lambda c: ((_mat(c, 3, 4),), {}),
    "linalg.matrix_norm": lambda c: ((_mat(c),), {}),
    "linalg.vector_norm": lambda c: ((_mat(c),), {}),
    "linalg.trace": lambda c: ((_mat(c),), {}),
    "linalg.diagonal": lambda c: ((_mat(c),), {}),
    "linalg.cross": lambda c: ((_mat(c), _mat(c, offset=1)), {}),
    "linalg.matrix_power": lambda c: ((_mat(c), 3), {}),
    "linalg.outer": lambda c: ((c.randn(3), c.randn(2, offset=1)), {}),
    "linalg.pinv": lambda c: ((_mat(c, 3, 4),), {}),
}


def _draw(ctx, domain, shape=(3, 4), offset=0):
    if domain == "bool":
        return ctx.randn(*shape, offset=offset) > 0
    if domain == "complex":
        return ctx.randn(*shape, offset=offset) + 1j * ctx.randn(*shape, offset=offset + 7)
    if domain == "int":
        return it.astype(it.floor(ctx.randn(*shape, low=0, high=7, offset=offset)), it.int64)
    lo, hi = {"real": (-3, 3), "unit": (-0.9, 0.9), "pos": (0.2, 3), "ge1": (1.1, 4),
              "gtm1": (-0.9, 3)}[domain]
    x = ctx.randn(*shape, low=lo, high=hi, offset=offset)
    if domain == "real":
        x[0, 0] = 0.0
    return x


def _lookup(xp, name):
    obj = xp
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def _raw(ctx, be, v):
    """A reference value as the backend's own argument (arrays: native arrays)."""
    if isinstance(v, it.Tensor):
        t = ctx.on_test(v) if be is ctx.be else v
        return t._data
    if isinstance(v, list):
        return [_raw(ctx, be, x) for x in v]
    return v


def _wrap(be, out):
    if isinstance(out, (tuple, list)):
        return [_wrap(be, o) for o in out]
    if isinstance(out, (bool, int, float)):
        return it.asarray(out)
    return it.asarray(out, device=be)


def _run_function(ctx, name, args, kwargs):
    """Call ``name`` on the reference and on the backend under test; compare."""
    be = ctx.be
    try:
        fn = _lookup(be.xp, name)
    except AttributeError:
        raise Mismatch(f"{name} is missing from the namespace ({be.library})",
                       expected="a function", got="missing") from None
    expected = _wrap(ctx.ref, _lookup(ctx.ref.xp, name)(*[_raw(ctx, ctx.ref, a) for a in args],
                                                      **kwargs))
    if name in ("arange", "linspace", "eye", "full", "ones", "zeros"):
        kwargs = dict(kwargs, dtype=be.native_dtype(ctx.float), **be.device_kwargs)
    got = _wrap(be, fn(*[_raw(ctx, be, a) for a in args], **kwargs))
    ctx.note(args=[_describe(a) for a in args], kwargs={k: repr(v) for k, v in kwargs.items()
                                                       if k != "device"})
    if isinstance(expected, list):
        if not isinstance(got, list) or len(got) != len(expected):
            raise Mismatch(f"{name}: returned {type(got).__name__}, expected {len(expected)} "
                           f"arrays")
        for k, (g, e) in enumerate(zip(got, expected)):
            _compare(ctx, name, g, e, f"{name} output {k}")
    else:
        _compare(ctx, name, got, expected, name)


def _test_dtype(ctx, dt):
    """The dtype the backend under test should give where the reference gives ``dt``."""
    if not ctx.f64:
        dt = {it.float64: it.float32, it.complex128: it.complex64}.get(dt, dt)
    if dt == it.int64 and it.int64 not in ctx.be.to_native:
        dt = ctx.be.default_int
    return dt


def _compare(ctx, name, got, expected, what):
    want = _test_dtype(ctx, expected.dtype)
    index_ints = (it.int32, it.int64)        # index results (argmax, nonzero) may be either
    if got.dtype != want and not (got.dtype in index_ints and want in index_ints):
        raise Mismatch(f"{what}: dtype {got.dtype}, expected {want}",
                       expected=str(want), got=str(got.dtype))
    rtol, atol = ctx.tol(1e-10, 1e-12, 3e-6, 3e-6)
    ctx.assert_close(got, expected, rtol=rtol, atol=atol, what=what)


def _describe(v):
    if isinstance(v, it.Tensor):
        return f"{v.dtype.name}{list(v.shape)}"
    if isinstance(v, list):
        return [_describe(x) for x in v]
    return repr(v)


def _unary_check(name, domain):
    def fn(ctx):
        x = _draw(ctx, domain)
        if domain == "real" and name in ("round",):
            x = x + 0.1      # away from .5 ties (whose rounding is the standard's own check)
        _run_function(ctx, name, (x,), {})
    return fn


def _binary_check(name, domain):
    def fn(ctx):
        a, b = _draw(ctx, domain), _draw(ctx, domain, offset=1)
        _run_function(ctx, name, (a, b), {})
    return fn


def _reduce_check(name):
    def fn(ctx):
        x = _draw(ctx, "bool" if name in BOOL_REDUCE else "real")
        if name == "prod":
            x = ctx.randn(3, 4, low=0.5, high=1.5)
        _run_function(ctx, name, (x,), {"axis": -1})
    return fn


def _other_check(name, make):
    def fn(ctx):
        args, kwargs = make(ctx)
        _run_function(ctx, name, args, kwargs)
    return fn


# ------------------------------------------------------------------ dtypes, info, device

REQUIRED_DTYPES = ("bool", "int64", "float32")
OPTIONAL_DTYPES = ("int8", "int16", "int32", "uint8", "uint16", "uint32", "uint64",
                   "float64", "complex64", "complex128")


def _dtype_check(name, required):
    def fn(ctx):
        dt = getattr(it, name)
        have = dt in ctx.be.to_native
        if not have:
            if name == "int64" and it.int32 in ctx.be.to_native:
                raise Skip("no int64: interop indexes with int32 here")
            if required:
                raise Mismatch(f"dtype {name} is missing: interop needs it",
                               expected=name, got="missing")
            extra = " (the suite runs in float32 with looser tolerances)" \
                if name == "float64" else ""
            raise Skip(f"the namespace has no {name}{extra}")
        x = it.zeros((2,), dtype=dt, device=ctx.be)
        if x.dtype != dt:
            raise Mismatch(f"zeros(dtype={name}) came back as {x.dtype}",
                           expected=name, got=str(x.dtype))
    return fn


def _check_info(ctx):
    xp = ctx.be.xp
    if not hasattr(xp, "__array_namespace_info__"):
        raise Mismatch("the namespace has no __array_namespace_info__()",
                       expected="__array_namespace_info__", got="missing")
    info = xp.__array_namespace_info__()
    missing = [m for m in ("capabilities", "default_device", "default_dtypes", "devices",
                           "dtypes") if not hasattr(info, m)]
    if missing:
        raise Mismatch(f"__array_namespace_info__() lacks {', '.join(missing)}",
                       expected="capabilities, default_device, default_dtypes, devices, dtypes",
                       got=", ".join(missing))
    caps = info.capabilities()
    ctx.note(capabilities={k: repr(v) for k, v in dict(caps).items()},
             devices=[repr(d) for d in info.devices()])
    # interop's own view of the namespace: its info must answer too
    t = it.zeros(2, device=ctx.be)
    ns = t.__array_namespace__()
    ns.__array_namespace_info__().default_dtypes()


def _check_device(ctx):
    t = it.ones((2, 3), device=ctx.be)
    if t.device != ctx.be.device:
        raise Mismatch(f"a tensor made on backend {ctx.be.name!r} reports device {t.device}, "
                       f"expected {ctx.be.device}", expected=str(ctx.be.device),
                       got=str(t.device))
    u = (t * 2).sum()
    if u.device != ctx.be.device:
        raise Mismatch(f"an op's result moved to {u.device}", expected=str(ctx.be.device),
                       got=str(u.device))
    back = t.to(ctx.ref)
    ctx.assert_close(back, it.ones((2, 3), dtype=it.float32, device=ctx.ref),
                     what="a round trip to the CPU reference")


def _check_rng(ctx):
    be = ctx.be
    it.manual_seed(1234)
    a = it.randn(64, device=be, dtype=ctx.float)
    u = it.rand(64, device=be, dtype=ctx.float)
    k = it.randint(0, 5, (64,), device=be)
    it.manual_seed(1234)
    b = it.randn(64, device=be, dtype=ctx.float)
    ctx.assert_close(b, a, rtol=0, atol=0, what="randn after the same manual_seed")
    it.manual_seed(4321)
    c = it.randn(64, device=be, dtype=ctx.float)
    if it.all(c == a.to(be)).item():
        raise Mismatch("randn gave the same numbers for seeds 1234 and 4321")
    lo, hi = it.min(u).item(), it.max(u).item()
    if not (0 <= lo and hi < 1):
        raise Mismatch(f"rand outside [0, 1): min {lo}, max {hi}", expected="[0, 1)",
                       got=[lo, hi])
    klo, khi = it.min(k).item(), it.max(k).item()
    if not (0 <= klo and khi < 5):
        raise Mismatch(f"randint(0, 5) outside [0, 5): min {klo}, max {khi}",
                       expected="[0, 5)", got=[klo, khi])
    big = it.randn(20000, device=be, dtype=ctx.float)
    m = it.mean(big).item()
    s = math.sqrt(it.mean(big * big).item() - m * m)
    if abs(m) > 0.05 or abs(s - 1) > 0.05:
        raise Mismatch(f"randn's 20,000 samples have mean {m:.4f} and std {s:.4f}",
                       expected="mean 0, std 1 (within 0.05)", got=[m, s])


# -------------------------------------------------------------------------------- kernels

def _kernel_inputs(ctx, name):
    """Arguments of kernel ``name`` (already in the form its checks produce), as
    reference tensors / Python values, with repeated indices and an unsorted order."""
    x = ctx.randn(5, 4)
    idx = it.asarray([3, 0, 3, 1, 4, 0, 0], device=ctx.ref)
    if name == "getitem":
        return x, ((idx, it.asarray([1], device=ctx.ref)),)
    if name == "add_at":
        return x, ((idx,), ctx.randn(7, 4, offset=1))
    if name == "index_add":
        return x, (0, idx, ctx.randn(7, 4, offset=1))
    if name == "scatter_add":
        index = it.asarray([[0, 2, 1, 2], [4, 4, 0, 1]], device=ctx.ref)
        return x, (0, index, ctx.randn(2, 4, offset=1))
    if name == "sum_to":
        return ctx.randn(2, 5, 4), ((1, 4),)
    if name == "windows":
        return ctx.randn(2, 3, 7, 6), ((3, 2), (2, 1), (1, 2))
    if name == "windows_add":
        return None, ((2, 3, 7, 6), ctx.randn(2, 3, 3, 2, 3, 4, offset=1), (3, 2), (2, 1),
                      (1, 2))
    if name in ("softmax", "log_softmax"):
        return ctx.randn(3, 4, 5), ((2,),)
    if name in ("softmax_backward", "log_softmax_backward"):
        y = ctx.randn(3, 4, 5, offset=1)
        return ctx.randn(3, 4, 5), (y, (2,))
    if name == "normalize_rows":          # group norm's form: a weight per channel
        return ctx.randn(6, 2, 5), (ctx.randn(3, 2, 1, offset=1), ctx.randn(3, 2, 1, offset=2),
                                    1e-5)
    if name == "normalize_rows_backward":     # layer norm's form: a weight per entry
        x = ctx.randn(4, 1, 7, offset=1)
        mean = it.mean(x, axis=(1, 2))
        rstd = 1.0 / it.sqrt(it.var(x, axis=(1, 2)) + 1e-5)
        return ctx.randn(4, 1, 7), (x, ctx.randn(1, 1, 7, offset=2), mean, rstd, (1, 1, 7))
    if name == "normalize_channels":
        return ctx.randn(3, 4, 5), (ctx.randn(4, offset=1), ctx.randn(4, offset=2), 1e-5)
    if name == "normalize_channels_backward":
        x = ctx.randn(3, 4, 5, offset=1)
        mean = it.mean(x, axis=(0, 2))
        rstd = 1.0 / it.sqrt(it.var(x, axis=(0, 2)) + 1e-5)
        return ctx.randn(3, 4, 5), (x, ctx.randn(4, offset=2), mean, rstd)
    if name == "batch_to_front":          # a convolution's output and bias
        return ctx.randn(4, 5, 3), (ctx.randn(4, offset=1),)
    if name == "batch_to_back":           # samples 4 KiB apart (the cpu backend's spread copy)
        return ctx.randn(3, 4, 256), ()
    if name == "windows_add_product":     # a convolution's input gradient: 32 samples, so
        # that a compiled path (the cpu backend's, for batches of 32s) is held to it too
        return None, ((32, 2, 6, 7), ctx.randn(12, 3, offset=1), ctx.randn(3, 320, offset=2),
                      (3, 2), (2, 1), (1, 2))
    if name in ("windows_product", "product_windows"):   # a convolution's forward and weight
        # gradient: 32 samples laid out batch-innermost, as the cpu backend's compiled
        # kernels read them, so that they are held to it too
        x = it.permute_dims(ctx.randn(2, 6, 7, 32, offset=3), (3, 0, 1, 2))
        a = ctx.randn(5, 12 if name == "windows_product" else 320, offset=4)
        return a, (x, (3, 2), (2, 1), (1, 2))
    if name == "window_argmax":          # max pooling: padding, overlapping windows, ties
        x = it.round(ctx.randn(2, 3, 7, 6) * 2)
        return x, ((3, 2), (2, 1), (1, 2), (1, 1), (4, 5))
    if name == "window_argmax_add":      # its gradient, at offsets naming padding too
        offsets = it.asarray([[0, 5, 2, 3, 1], [4, 0, 5, 1, 2], [3, 3, 0, 4, 5],
                              [1, 2, 3, 0, 0]], dtype=it.int8, device=ctx.ref)
        offsets = it.broadcast_to(offsets, (2, 3, 4, 5))
        return None, ((2, 3, 7, 6), ctx.randn(2, 3, 4, 5, offset=1), offsets, (3, 2), (2, 1),
                      (1, 2), (1, 1))
    # the activations: 5120 elements, so that a compiled path (the cpu backend's float32
    # kernels) is held against its fallback too
    act, g = ctx.randn(64, 80, offset=2), ctx.randn(64, 80, offset=3)
    if name in ("sigmoid", "silu", "relu"):
        return act, ()
    if name == "relu_backward":             # (zeros in the output, where the gradient stops)
        return g, (it.where(act < 0, 0.0, act),)
    if name == "gelu":
        return act, ("none",)
    if name == "sigmoid_backward":
        return g, (ctx.randn(64, 80, low=0.0, high=1.0, offset=2),)
    if name == "silu_backward":
        return g, (act,)
    if name == "gelu_backward":
        return g, (act, "tanh")
    # the LSTM's time loop: packed steps of falling sizes, a projection (every result is an
    # array), the reverse direction forward, the forward direction back
    sizes = (3, 2, 2, 1)
    if name == "lstm_scan":
        return ctx.randn(8, 8, offset=1), (ctx.randn(3, 1, offset=2), ctx.randn(3, 2, offset=3),
                                           ctx.randn(8, 1, offset=4), ctx.randn(1, 2, offset=5),
                                           sizes, True, True)
    if name == "lstm_scan_backward":
        return ctx.randn(8, 1, offset=1), (
            ctx.randn(3, 1, offset=2), ctx.randn(3, 2, offset=3),
            ctx.randn(8, 8, low=0.0, high=1.0, offset=4), ctx.randn(8, 2, offset=5),
            ctx.randn(8, 2, low=-1.0, high=1.0, offset=6), ctx.randn(8, 2, offset=7),
            ctx.randn(8, 1, offset=8), ctx.randn(1, 2, offset=9), sizes, False, True, True)
    target = it.asarray([3, 0, -100, 1, 2], device=ctx.ref)
    if name == "class_cross_entropy":
        return x, (target, -100, "mean")
    if name == "class_cross_entropy_backward":
        return ctx.randn(5, offset=1), (x, target, -100, "none")
    raise KeyError(name)


def _ref_arg(v):
    if isinstance(v, it.Tensor):
        return v._data
    if isinstance(v, tuple):
        return tuple(_ref_arg(e) for e in v)
    return v


def _kernel_check(name):
    def fn(ctx):
        be = ctx.be
        path = be.kernel_paths[name]
        installed, fallback = be.kernel_and_fallback(name)
        x, rest = _kernel_inputs(ctx, name)
        ctx.note(path=path, kernel=KERNELS[name].signature)

        def conv(v):
            if isinstance(v, it.Tensor):
                return ctx.on_test(v)._data
            if isinstance(v, tuple):
                return tuple(conv(e) for e in v)
            return v
        args = ([] if x is None else [conv(x)]) + [conv(v) for v in rest]
        got = _wrap(be, installed(*args))
        if path == "fallback":
            # no native path to hold against: the fallback that runs here is held against
            # the reference backend's own kernel on the same values
            ref_args = ([] if x is None else [x._data]) + [_ref_arg(v) for v in rest]
            want = _wrap(ctx.ref, ctx.ref.kernel_and_fallback(name)[0](*ref_args))
            what = f"kernel {name} (the standard-only fallback) against NumPy's"
        else:
            want = _wrap(be, fallback(*args))
            what = f"kernel {name} ({path}) against its standard-only fallback"
        rtol, atol = ctx.tol(1e-12, 1e-12, 1e-5, 1e-6)
        if isinstance(got, list):           # (a kernel returning a tuple of arrays)
            for i, (a, b) in enumerate(zip(got, want)):
                ctx.assert_close(a, b, rtol=rtol, atol=atol, what=f"{what}, result {i}")
        else:
            ctx.assert_close(got, want, rtol=rtol, atol=atol, what=what)
    return fn


def checks():
    out = []
    for name, dom in UNARY.items():
        out.append(Check("contract", f"function[{name}]", _unary_check(name, dom)))
    for name, dom in BINARY.items():
        out.append(Check("contract", f"function[{name}]", _binary_check(name, dom)))
    for name in REDUCE:
        out.append(Check("contract", f"function[{name}]", _reduce_check(name)))
    for name, make in OTHER.items():
        out.append(Check("contract", f"function[{name}]", _other_check(name, make)))
    for name in REQUIRED_DTYPES + OPTIONAL_DTYPES:
        out.append(Check("contract", f"dtype[{name}]", _dtype_check(name, name in REQUIRED_DTYPES)))
    out.append(Check("contract", "info", _check_info))
    out.append(Check("contract", "device", _check_device))
    out.append(Check("contract", "rng", _check_rng))
    for name in KERNELS:
        out.append(Check("contract", f"kernel[{name}]", _kernel_check(name)))
    return out
