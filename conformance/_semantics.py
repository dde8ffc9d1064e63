"""Section 2, namespace semantics: Array API behaviour through interop on this backend.

Property-based (hypothesis, with the check's seed: the same examples on every run of the
same seed): type promotion, broadcasting, basic and advanced indexing, item assignment,
in-place ops and views, copies, empty and 0-d arrays, NaN and infinity. Every result is
compared with the same expression on the reference backend (NumPy).
"""

import interop as it

from ._core import Check, Mismatch, Skip

_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "float32",
           "float64", "complex64", "complex128")


def _hypothesis():
    try:
        import hypothesis
        from hypothesis import strategies as st
    except ImportError:
        raise Skip("hypothesis is not installed (pip install hypothesis, or interop's test "
                   "extra)") from None
    return hypothesis, st


def _property(ctx, strategy, body, examples=(25, 100)):
    """Run ``body(example)`` on hypothesis examples of ``strategy`` with the check's seed;
    a failure names the falsifying example."""
    hyp, st = _hypothesis()
    n = examples[0] if ctx.quick else examples[1]

    @hyp.settings(max_examples=n, deadline=None, database=None, derandomize=False,
                  suppress_health_check=list(hyp.HealthCheck), print_blob=False)
    @hyp.seed(ctx.check_seed)
    @hyp.given(strategy)
    def prop(example):
        body(example)

    try:
        prop()
    except Mismatch as e:
        notes = [n for n in getattr(e, "__notes__", []) if "Falsifying" in n or "example" in n]
        ctx.note(falsifying_example=notes[-1] if notes else "(see message)")
        raise


def _shapes(st, min_dims=0, max_dims=3, max_side=4):
    return st.lists(st.integers(0, max_side), min_size=min_dims, max_size=max_dims).map(tuple)


def _ref_values(ctx, shape, dtype="float64", offset=0):
    x = ctx.randn(*shape, offset=offset) if shape else ctx.randn(1, offset=offset)[0]
    return x if dtype == "float64" else it.astype(x * 3, getattr(it, dtype))


# ------------------------------------------------------------------------------ checks

def _promotion(ctx):
    have = [d for d in _DTYPES if getattr(it, d) in ctx.be.to_native]
    tried = 0
    for a in have:
        for b in have:
            x = it.ones((2,), dtype=getattr(it, a), device=ctx.be)
            y = it.ones((2,), dtype=getattr(it, b), device=ctx.be)
            try:
                want = it.result_type(getattr(it, a), getattr(it, b))
            except (TypeError, ValueError):
                continue           # no promotion defined (e.g. int64 with uint64)
            if want not in ctx.be.to_native:
                continue
            got = (x + y).dtype
            tried += 1
            if got != want:
                ctx.note(pair=[a, b])
                raise Mismatch(f"{a} + {b} gave {got}, expected {want} (the standard's table)",
                               expected=str(want), got=str(got))
    # Python scalars do not change a tensor's dtype
    for d in have:
        if d == "bool":
            continue
        x = it.ones((2,), dtype=getattr(it, d), device=ctx.be)
        for s in (2, 1.5 if d.startswith(("float", "complex")) else 3):
            if (x * s).dtype != x.dtype:
                raise Mismatch(f"{d} tensor * {s!r} gave {(x * s).dtype}, expected {d}",
                               expected=d, got=str((x * s).dtype))
    ctx.note(pairs=tried)


def _broadcasting(ctx):
    hyp, st = _hypothesis()
    pairs = st.tuples(_shapes(st), st.lists(st.booleans(), min_size=3, max_size=3),
                      st.integers(0, 2))

    def body(ex):
        shape, ones, extra = ex
        other = tuple(1 if o else s for s, o in zip(shape, ones))[extra:] if shape else ()
        a, b = _ref_values(ctx, shape), _ref_values(ctx, other, offset=1)
        want = a * b - b
        got = ctx.on_test(a) * ctx.on_test(b) - ctx.on_test(b)
        ctx.assert_close(got, want, what=f"a * b - b for shapes {shape} and {other}")
    _property(ctx, pairs, body)


def _basic_key(st, shape):
    parts = []
    for n in shape:
        parts.append(st.one_of(
            st.integers(-n, n - 1) if n else st.just(slice(None)),
            st.builds(slice, st.one_of(st.none(), st.integers(-n - 1, n + 1)),
                      st.one_of(st.none(), st.integers(-n - 1, n + 1)),
                      st.one_of(st.none(), st.integers(1, 3), st.integers(-3, -1)))))
    return st.tuples(*parts) if parts else st.just(())


def _indexing_basic(ctx):
    hyp, st = _hypothesis()
    neg_steps = ctx.be.negative_steps

    def body(ex):
        shape, key = ex
        if not neg_steps:
            key = tuple(slice(k.start, k.stop, abs(k.step)) if isinstance(k, slice) and k.step
                        else k for k in key)
        a = _ref_values(ctx, shape)
        ctx.assert_close(ctx.on_test(a)[key], a[key], what=f"x{list(shape)}[{key!r}]")
        if len(key) >= 1:    # with None and Ellipsis around it
            k2 = (None, Ellipsis) + key[1:]
            ctx.assert_close(ctx.on_test(a)[k2], a[k2], what=f"x{list(shape)}[{k2!r}]")
    _property(ctx, _shapes(st, 1, 3).flatmap(lambda s: st.tuples(st.just(s), _basic_key(st, s))),
              body)


def _indexing_advanced(ctx):
    hyp, st = _hypothesis()

    def body(ex):
        shape, seed = ex
        a = _ref_values(ctx, shape, offset=seed)
        n = shape[0]
        idx = it.asarray([(seed * 7 + k * 3) % n - (k % 2) * n for k in range(5)],
                         device=ctx.ref)
        ctx.assert_close(ctx.on_test(a)[ctx.on_test(idx)], a[idx], what=f"x[int array]")
        mask = a > 0
        ctx.assert_close(ctx.on_test(a)[ctx.on_test(mask)], a[mask], what="x[bool mask]")
        if len(shape) >= 2:
            k = (ctx.on_test(idx), slice(None, None, 2))
            ctx.assert_close(ctx.on_test(a)[k], a[idx, ::2], what="x[int array, ::2]")
    _property(ctx, st.tuples(_shapes(st, 1, 3).filter(lambda s: s[0] > 0), st.integers(0, 50)),
              body)


def _setitem(ctx):
    hyp, st = _hypothesis()

    def body(ex):
        shape, key = ex
        a = _ref_values(ctx, shape)
        t = ctx.on_test(a)
        v = -1.5
        a = it.asarray(a, copy=True)
        a[key] = v
        t[key] = v
        ctx.assert_close(t, a, what=f"x[{key!r}] = {v}")
    _property(ctx, _shapes(st, 1, 3).flatmap(
        lambda s: st.tuples(st.just(s), _basic_key(st, s).map(
            lambda k: tuple(slice(e.start, e.stop, abs(e.step)) if isinstance(e, slice) and
                            e.step else e for e in k)))), body)


def _views(ctx):
    """A write through a view reaches its base; a backend with immutable arrays refuses it
    with interop's error (never writes nowhere)."""
    base = it.zeros((3, 4), dtype=ctx.float, device=ctx.be)
    view = base[1]
    try:
        view += 1
    except RuntimeError as e:
        if ctx.be.mutable or "immutable" not in str(e):
            raise
        ctx.note(immutable="in-place through a view refused, as documented")
        owner = it.zeros((3,), dtype=ctx.float, device=ctx.be)
        owner += 1          # a tensor that owns its memory is rebound
        ctx.assert_close(owner, it.ones((3,), dtype=it.float64, device=ctx.ref),
                         what="in-place add on a tensor that owns its memory")
        return
    want = it.zeros((3, 4), dtype=it.float64, device=ctx.ref)
    want[1] = 1
    ctx.assert_close(base, want, what="base after view += 1")
    # the version counter: changing a saved tensor makes backward refuse
    x = it.ones(3, dtype=ctx.float, device=ctx.be, requires_grad=True)
    y = x * 2
    z = y * y
    y.add_(1)
    try:
        z.sum().backward()
    except RuntimeError as e:
        if "modified by an inplace operation" not in str(e) and "in-place" not in str(e):
            raise
    else:
        raise Mismatch("backward through a tensor changed in place after it was saved "
                       "did not raise (a wrong gradient)")


def _copies(ctx):
    a = it.arange(6.0, dtype=ctx.float, device=ctx.be)
    c = a.clone()
    d = it.asarray(a, copy=True)
    if ctx.be.mutable:
        a[0] = 100
        for name, t in (("clone()", c), ("asarray(copy=True)", d)):
            if t[0].item() != 0:
                raise Mismatch(f"{name} shares memory with its source", expected=0.0,
                               got=t[0].item())
        v = it.asarray(a, copy=False)
        a[1] = 50
        if v[1].item() != 50:
            raise Mismatch("asarray(copy=False) copied", expected=50.0, got=v[1].item())


def _empty_and_0d(ctx):
    e = it.zeros((0, 3), dtype=ctx.float, device=ctx.be)
    checks = [("sum", it.sum(e, axis=0), it.zeros(3, dtype=it.float64, device=ctx.ref)),
              ("prod", it.prod(e, axis=0), it.ones(3, dtype=it.float64, device=ctx.ref)),
              ("e + 1", e + 1, it.ones((0, 3), dtype=it.float64, device=ctx.ref)),
              ("e @ ones(3, 2)", e @ it.ones((3, 2), dtype=ctx.float, device=ctx.be),
               it.zeros((0, 2), dtype=it.float64, device=ctx.ref))]
    s = it.asarray(2.5, dtype=ctx.float, device=ctx.be)
    checks.append(("0-d * 0-d", s * s, it.asarray(6.25, dtype=it.float64, device=ctx.ref)))
    checks.append(("0-d reshape", it.reshape(s, (1, 1)),
                   it.full((1, 1), 2.5, dtype=it.float64, device=ctx.ref)))
    for what, got, want in checks:
        ctx.assert_close(got, want, what=what)
    try:
        it.max(e, axis=0)
    except (ValueError, RuntimeError, IndexError):
        pass
    else:
        raise Mismatch("max over an empty axis did not raise (the standard leaves it "
                       "undefined; interop raises)")


def _special_values(ctx):
    nan, inf = float("nan"), float("inf")
    vals = [nan, inf, -inf, 0.0, -0.0, 1.0]
    a = it.asarray(vals, dtype=it.float64, device=ctx.ref)
    b = it.asarray(list(reversed(vals)), dtype=it.float64, device=ctx.ref)
    ta, tb = ctx.on_test(a), ctx.on_test(b)
    for what, f in (("a + b", lambda x, y: x + y), ("a * b", lambda x, y: x * y),
                    ("a / b", lambda x, y: x / y), ("maximum", it.maximum),
                    ("minimum", it.minimum), ("exp(a)", lambda x, y: it.exp(x)),
                    ("a == b", lambda x, y: x == y), ("a < b", lambda x, y: x < y)):
        ctx.assert_close(f(ta, tb), f(a, b), what=what)
    ctx.assert_close(it.max(ta), it.max(a), what="max with a NaN")
    ctx.assert_close(it.sum(ta[1:3]), it.sum(a[1:3]), what="inf + -inf")


def checks():
    return [Check("semantics", "promotion", _promotion),
            Check("semantics", "broadcasting", _broadcasting),
            Check("semantics", "indexing[basic]", _indexing_basic),
            Check("semantics", "indexing[advanced]", _indexing_advanced),
            Check("semantics", "setitem", _setitem),
            Check("semantics", "views_and_inplace", _views),
            Check("semantics", "copies", _copies),
            Check("semantics", "empty_and_0d", _empty_and_0d),
            Check("semantics", "nan_and_inf", _special_values)]
