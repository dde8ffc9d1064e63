"""The backend registry, mixed-backend errors, the named kernels (native fast paths
against the pure-standard fallbacks) and the rule that only ``interop/backends/``
imports an array library."""

import contextvars
import importlib.util
import json
import os
import pathlib
import subprocess
import sys
import threading
import warnings

import numpy as np
import pytest

import interop as it
from interop.backends import Backend

from helpers import to_np

REPO = pathlib.Path(it.__file__).resolve().parent.parent


# ------------------------------------------------------------------------ registry

def test_get_backend_by_name_and_alias():
    cpu = it.get_backend("cpu")
    assert cpu.name == "cpu" and isinstance(cpu, Backend)
    assert it.get_backend("numpy") is cpu
    assert it.get_backend(cpu) is cpu
    strict = it.get_backend("strict")
    assert strict.name == "strict" and strict is not cpu
    assert it.get_backend("strict") is strict       # one instance per name


def test_set_backend_changes_where_tensors_are_created():
    before = it.get_backend()
    try:
        assert it.set_backend("strict") is it.get_backend("strict")
        assert it.get_backend().name == "strict"
        t = it.zeros(3)
        assert t.backend.name == "strict"
        assert type(t._data).__module__.startswith("array_api_strict")
        it.set_backend("cpu")
        assert it.zeros(3).backend.name == "cpu"
        assert isinstance(it.zeros(3)._data, np.ndarray)
    finally:
        it.set_backend(before)


def test_use_backend_restores_on_exit_and_on_exception():
    before = it.get_backend()
    other = "strict" if before.name != "strict" else "cpu"
    with it.use_backend(other) as be:
        assert be is it.get_backend(other)
        assert it.get_backend() is be
        assert it.ones(2).backend is be
        with it.use_backend(before):
            assert it.get_backend() is before
        assert it.get_backend() is be
    assert it.get_backend() is before
    with pytest.raises(KeyError):
        with it.use_backend(other):
            assert it.get_backend().name == other
            raise KeyError("boom")
    assert it.get_backend() is before


def test_list_backends():
    names = it.list_backends()
    for n in ("cpu", "strict", "cuda:0"):
        assert n in names


def test_unknown_backend_lists_known_ones():
    with pytest.raises(ValueError) as info:
        it.get_backend("no-such-backend")
    msg = str(info.value)
    assert "no-such-backend" in msg
    for n in ("cpu", "strict", "cuda"):
        assert n in msg
    with pytest.raises(ValueError, match="known backends"):
        it.set_backend("no-such-backend")
    with pytest.raises(TypeError):
        it.get_backend(3)


def test_cuda_without_cupy_says_how_to_install():
    if importlib.util.find_spec("cupy") is not None:
        pytest.skip("CuPy is installed here; the missing-CuPy message cannot be provoked")
    before = it.get_backend()
    for name in ("cuda", "cuda:0", "cupy"):
        with pytest.raises(RuntimeError) as info:
            it.set_backend(name)
        assert 'pip install "interop[cuda12]"' in str(info.value)
        assert isinstance(info.value, it.backends.BackendUnavailable)
    assert it.get_backend() is before


def test_register_backend_with_torch_namespace():
    pytest.importorskip("torch")
    import array_api_compat.torch as xp_torch
    import torch
    it.register_backend("torch-test", xp_torch)
    try:
        assert "torch-test" in it.list_backends()
        be = it.get_backend("torch-test")
        assert be.name == "torch-test" and be.xp is xp_torch
        with it.use_backend("torch-test"):
            w = it.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=it.float64, requires_grad=True)
            b = it.tensor([0.1, -0.2], dtype=it.float64, requires_grad=True)
            x = it.tensor([[1.0, 2.0], [3.0, -4.0], [0.5, 0.0]], dtype=it.float64)
            loss = (it.matmul(x, w) + b).tanh().sum()
            loss.backward()
        assert isinstance(w._data, torch.Tensor) and isinstance(w.grad._data, torch.Tensor)
        assert w.grad.backend is be
        tw = torch.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=torch.float64, requires_grad=True)
        tb = torch.tensor([0.1, -0.2], dtype=torch.float64, requires_grad=True)
        tx = torch.tensor([[1.0, 2.0], [3.0, -4.0], [0.5, 0.0]], dtype=torch.float64)
        tloss = (tx @ tw + tb).tanh().sum()
        tloss.backward()
        assert abs(loss.item() - tloss.item()) < 1e-12
        np.testing.assert_allclose(to_np(w.grad), tw.grad.numpy(), rtol=1e-12)
        np.testing.assert_allclose(to_np(b.grad), tb.grad.numpy(), rtol=1e-12)
    finally:
        it.backends._FACTORIES.pop("torch-test", None)
        it.backends._INSTANCES.pop("torch-test", None)


def test_register_backend_rejects_non_namespace():
    it.register_backend("bogus-test", object())
    try:
        with pytest.raises(TypeError, match="Array API namespace"):
            it.get_backend("bogus-test")
    finally:
        it.backends._FACTORIES.pop("bogus-test", None)


def _run_python(code, **env):
    full_env = dict(os.environ)
    full_env.update(env)
    full_env["PYTHONPATH"] = str(REPO) + os.pathsep + full_env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=full_env, cwd=str(REPO), timeout=120)


def test_default_backend_from_environment():
    code = "import interop; print(interop.get_backend().name, interop.zeros(1).backend.name)"
    r = _run_python(code, INTEROP_BACKEND="strict")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["strict", "strict"]
    env = {k: v for k, v in os.environ.items() if k != "INTEROP_BACKEND"}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=dict(env, PYTHONPATH=str(REPO)), cwd=str(REPO), timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["cpu", "cpu"]


# ------------------------------------------------------------------- mixing backends

def test_mixing_backends_in_one_op_names_both():
    with it.use_backend("cpu"):
        a = it.ones(2, 2)
    with it.use_backend("strict"):
        b = it.ones(2, 2)
    for op in (lambda: a + b, lambda: b * a, lambda: it.matmul(a, b), lambda: it.cat([a, b]),
               lambda: it.stack([b, a]), lambda: it.where(a > 0, a, b)):
        with pytest.raises(RuntimeError) as info:
            op()
        msg = str(info.value)
        assert "'cpu'" in msg and "'strict'" in msg, msg


# ----------------------------------------------------------------------- kernels
#
# Kernel contract (interop.backends.KERNELS): every kernel returns a new array and
# leaves its inputs unchanged, on every backend. The NumPy backend's native fast paths
# must agree with the pure-standard fallbacks of a bare Backend, and with the strict
# backend (which uses the fallbacks on array-api-strict arrays). tests/test_kernels.py
# has the full agreement suite (non-finite values, empty inputs, registered namespaces).

def _fallback():
    import array_api_compat.numpy as xp_np
    return Backend("fallback", xp_np)


def _kernel_backends():
    cpu = it.get_backend("cpu")
    fb = _fallback()
    strict = it.get_backend("strict")
    # the cpu backend really has native kernels; the fallback really uses the generic ones
    assert cpu.kernel_paths["add_at"] == "native" and cpu.kernel_paths["index_add"] == "native"
    assert type(fb) is Backend and set(fb.kernel_paths.values()) == {"fallback"}
    return [cpu, fb, strict]


def _run_kernel(be, name, args):
    """Run kernel ``name`` on ``be`` with NumPy ``args`` (converted), check the inputs are
    untouched, return the result as NumPy."""
    conv = [be.from_host(a) if isinstance(a, np.ndarray) else a for a in args]
    out = getattr(be.ns, name)(*conv)
    for orig, c in zip(args, conv):
        if isinstance(orig, np.ndarray):
            np.testing.assert_array_equal(np.asarray(be.to_host(c)), orig,
                                          err_msg=f"{be.name}.{name} modified an input")
    return np.asarray(be.to_host(out))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_index_add_kernels_agree(seed):
    rng = np.random.default_rng(seed)
    for axis in (0, 1, 2):
        x = rng.standard_normal((4, 5, 3))
        n = x.shape[axis]
        index = rng.integers(0, n, size=7)            # 7 > n: repeats guaranteed
        src_shape = list(x.shape)
        src_shape[axis] = 7
        src = rng.standard_normal(src_shape)
        expected = x.copy()
        for k, i in enumerate(index):
            sl = [slice(None)] * 3
            sl[axis] = i
            sk = [slice(None)] * 3
            sk[axis] = k
            expected[tuple(sl)] += src[tuple(sk)]
        for be in _kernel_backends():
            got = _run_kernel(be, "index_add", (x, axis, index, src))
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12,
                                       err_msg=f"index_add on {be.name}, axis {axis}")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_scatter_add_kernels_agree(seed):
    rng = np.random.default_rng(seed)
    for axis in (0, 1):
        x = rng.standard_normal((3, 4))
        # along axis 0: 5 rows of indices into 3 rows (repeats); along axis 1: 6 into 4
        index = rng.integers(0, x.shape[axis], size=(5, 3) if axis == 0 else (2, 6))
        src = rng.standard_normal((6, 7))          # larger than index: only index's extent is used
        expected = x.copy()
        for p in np.ndindex(*index.shape):
            q = list(p)
            q[axis] = index[p]
            expected[tuple(q)] += src[p]
        for be in _kernel_backends():
            got = _run_kernel(be, "scatter_add", (x, axis, index, src))
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12,
                                       err_msg=f"scatter_add on {be.name}, axis {axis}")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_add_at_kernels_agree(seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((5, 3))
    rows = rng.integers(0, 5, size=8)              # 8 > 5: repeated positions guaranteed
    cols = rng.integers(0, 3, size=8)
    cases = [
        (x, (rows, cols), None),                   # single elements, repeated
        (x[:, 0].copy(), (rows,), None),           # 1-D target
        (x, (rows, Ellipsis), None),               # whole rows (strict: through the getitem
    ]                                              # kernel's rewrite of the key)
    for target, key, only in cases:
        values = rng.standard_normal(target[key].shape)
        expected = target.copy()
        np.add.at(expected, key, values)
        for be in _kernel_backends():
            if only is not None and be.name not in only:
                continue
            conv_key = tuple(be.from_host(k) if isinstance(k, np.ndarray) else k for k in key)
            xb, vb = be.from_host(target), be.from_host(values)
            out = be.ns.add_at(xb, conv_key, vb)
            np.testing.assert_allclose(np.asarray(be.to_host(out)), expected, rtol=1e-12,
                                       atol=1e-12, err_msg=f"add_at on {be.name}, key {key}")
            # inputs unchanged
            np.testing.assert_array_equal(np.asarray(be.to_host(xb)), target)
            np.testing.assert_array_equal(np.asarray(be.to_host(vb)), values)
    # a 0-d value broadcast over repeated positions
    expected = x.copy()
    np.add.at(expected, (rows, cols), 1.0)
    for be in _kernel_backends():
        key = (be.from_host(rows), be.from_host(cols))
        out = be.ns.add_at(be.from_host(x), key, be.from_host(np.asarray(1.0)))
        np.testing.assert_allclose(np.asarray(be.to_host(out)), expected, rtol=1e-12)


@pytest.mark.parametrize("shape,target", [
    ((4, 3), (4, 3)), ((4, 3), (3,)), ((4, 3), (1, 3)), ((4, 3), (4, 1)), ((2, 4, 3), (4, 1)),
    ((2, 4, 3), ()), ((2, 1, 3), (1, 3)), ((5,), (1,)),
])
def test_sum_to_kernels_agree(shape, target):
    rng = np.random.default_rng(0)
    g = rng.standard_normal(shape)
    expected = g
    lead = g.ndim - len(target)
    expected = expected.sum(axis=tuple(range(lead))) if lead else expected
    axes = tuple(i for i, n in enumerate(target) if n == 1 and expected.shape[i] != 1)
    expected = expected.sum(axis=axes, keepdims=True) if axes else expected
    for be in _kernel_backends():
        got = _run_kernel(be, "sum_to", (g, target))
        assert got.shape == target, (be.name, got.shape)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12, err_msg=be.name)


def test_kernel_namespace_exposes_standard_functions_and_kernels():
    for be in _kernel_backends():
        for k in Backend.KERNELS:
            assert callable(getattr(be.ns, k))
        for k in ("asarray", "sum", "matmul", "exp"):
            assert getattr(be.ns, k) is getattr(be.xp, k)


# ---- the standard-only advanced-indexing kernel against NumPy's own indexing

from hypothesis import given, strategies as st  # noqa: E402


@st.composite
def _index_keys(draw):
    """A shape (up to 3 dims) and a key mixing ints, slices, None, ..., integer arrays
    (broadcastable, negative entries too) and at most one boolean mask."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    key, dim, used_ellipsis, used_mask, n_arrays = [], 0, False, False, 0
    alen = draw(st.integers(0, 3))
    while dim < len(shape):
        kind = draw(st.sampled_from(["int", "slice", "none", "ellipsis", "array", "mask"]))
        n = shape[dim]
        if kind == "int":
            key.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            key.append(slice(draw(st.integers(-n, n)), draw(st.integers(-n, n)),
                             draw(st.sampled_from([1, 2, -1]))))
        elif kind == "none":
            key.append(None)
            continue
        elif kind == "ellipsis" and not used_ellipsis:
            used_ellipsis = True
            key.append(Ellipsis)
            break
        elif kind == "mask" and not used_mask and n_arrays == 0:
            used_mask = True
            key.append(np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n))))
        else:
            n_arrays += 1
            vals = draw(st.lists(st.integers(-n, n - 1), min_size=alen, max_size=alen))
            key.append(np.array(vals, dtype=np.int64))
        dim += 1
    return shape, tuple(key)


@given(_index_keys())
def test_standard_only_indexing_matches_numpy(case):
    shape, key = case
    x = np.arange(float(np.prod(shape))).reshape(shape)
    try:
        expected = x[key]
    except IndexError:
        return                                   # NumPy refuses it too (e.g. unbroadcastable)
    fb = _fallback()
    strict = it.get_backend("strict")
    advanced = any(isinstance(k, np.ndarray) for k in key)
    # strict through the kernel (native indexing where the standard allows it); the
    # rewrite itself on NumPy data, where native indexing would otherwise always succeed
    runs = [(strict, strict.getitem)] + ([(fb, fb._getitem_by_arrays)] if advanced else [])
    for be, fn in runs:
        bkey = tuple(be.xp.asarray(k) if isinstance(k, np.ndarray) else k for k in key)
        got = np.asarray(be.to_host(fn(be.xp.asarray(x), bkey)))
        assert got.shape == expected.shape, (be.name, key)
        np.testing.assert_array_equal(got, expected, err_msg=f"{be.name} {key}")


def test_current_backend_is_per_context_as_documented():
    # set_backend is a ContextVar: a new thread starts from the default, and
    # contextvars.copy_context().run carries the caller's choice into it
    seen = {}
    with it.use_backend("strict"):
        t = threading.Thread(target=lambda: seen.setdefault("thread", it.get_backend().name))
        t.start()
        t.join()
        ctx = contextvars.copy_context()
        t = threading.Thread(target=lambda: ctx.run(
            lambda: seen.setdefault("copied", it.get_backend().name)))
        t.start()
        t.join()
    default = os.environ.get("INTEROP_BACKEND") or "cpu"
    assert seen == {"thread": default, "copied": "strict"}


def test_numpy_backend_keeps_freed_memory_on_glibc():
    """The NumPy backend tunes glibc's malloc to keep freed array memory (no page faults on
    every fresh result); INTEROP_MALLOC=default leaves malloc alone."""
    from interop.backends import _numpy
    assert _numpy.tune_malloc({"INTEROP_MALLOC": "default"}) is False
    try:
        glibc = os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")
    except (ValueError, OSError):
        glibc = False
    if not glibc:
        pytest.skip("not glibc: malloc is left alone")
    assert _numpy.tune_malloc({}) is True


# A fresh process that reports, as JSON, what interop did to malloc and what glibc's allocator
# does with a 24 MB array: whether it maps it (mallinfo2's count of mmapped chunks goes up,
# glibc's default above 128 KB) or serves it from the heap (tuned: up to 32 MB).
_MALLOC_PROBE = """
import ctypes, json, logging, sys
import numpy as np

records = []
class Keep(logging.Handler):
    def emit(self, record):
        records.append(record.getMessage())
log = logging.getLogger("interop")
log.setLevel(logging.INFO)
log.addHandler(Keep())

class Mallinfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena ordblks smblks hblks hblkhd usmblks "
                                               "fsmblks uordblks fordblks keepcost").split()]
mallinfo2 = getattr(ctypes.CDLL(None), "mallinfo2", None)
if mallinfo2 is not None:
    mallinfo2.restype = Mallinfo2

def mapped():
    if mallinfo2 is None:
        return None
    before = mallinfo2().hblks
    a = np.empty(24 << 20, np.uint8)
    n = mallinfo2().hblks - before
    del a
    return n

import interop as it
from interop.backends import _malloc, _numpy
out = {}
def state(tag):
    out[tag] = dict(applied=it.backends.get_malloc_tuning(), calls=_malloc.mallopt_calls,
                    notices=len(records), mapped=mapped())
""" + "\n"


def _malloc_probe(steps, **env):
    env = {k: v for k, v in os.environ.items()
           if k not in ("INTEROP_MALLOC", "INTEROP_BACKEND")} | env
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    r = subprocess.run([sys.executable, "-c", _MALLOC_PROBE + steps + "\nprint(json.dumps(out))"],
                       capture_output=True, text=True, env=env, cwd=str(REPO), timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.splitlines()[-1])


def _glibc():
    try:
        return os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")
    except (ValueError, OSError):
        return False


@pytest.mark.skipif(not _glibc(), reason="not glibc: malloc is left alone")
def test_malloc_tuning_is_on_by_default_logged_once_and_can_be_turned_off():
    """The cpu backend tunes malloc when it is first made and says so once on the "interop"
    logger; set_malloc_tuning(False) undoes it (glibc maps large blocks again) and True
    applies it again, without a second notice."""
    r = _malloc_probe("""
state("import")
x = it.ones(1000, device="cpu") * 2
state("cpu")
_numpy.make_numpy_backend()             # a second cpu backend: no second notice
_numpy.tune_malloc({})
state("again")
assert it.backends.set_malloc_tuning(False) is False
state("off")
assert it.backends.set_malloc_tuning(True) is True
state("on")
""")
    assert r["import"]["calls"] == 0 and not r["import"]["applied"]   # not before first use
    assert r["cpu"]["applied"] and r["cpu"]["calls"] == 2 and r["cpu"]["notices"] == 1
    assert r["again"]["notices"] == 1 and r["again"]["calls"] == 2
    assert not r["off"]["applied"] and r["on"]["applied"] and r["on"]["notices"] == 1
    if r["cpu"]["mapped"] is not None:          # (mallinfo2: glibc 2.33 and later)
        assert r["import"]["mapped"] == 1       # glibc's default: a 24 MB block is mapped
        assert r["cpu"]["mapped"] == 0          # tuned: it comes from the heap
        assert r["off"]["mapped"] == 1 and r["on"]["mapped"] == 0
    out = subprocess.run([sys.executable, "-c", "import interop, logging; "
                          "logging.getLogger('interop').setLevel(logging.INFO); "
                          "logging.basicConfig(); interop.ones(2)"],
                         capture_output=True, text=True, cwd=str(REPO), timeout=120,
                         env=dict(os.environ, PYTHONPATH=str(REPO), INTEROP_BACKEND="cpu",
                                  INTEROP_MALLOC=""))
    lines = [ln for ln in out.stderr.splitlines() if "malloc" in ln]
    assert len(lines) == 1 and "INTEROP_MALLOC=default" in lines[0], out.stderr


@pytest.mark.skipif(not _glibc(), reason="not glibc: malloc is left alone")
def test_malloc_tuning_off_means_no_mallopt_call():
    """INTEROP_MALLOC=default, or set_malloc_tuning(False) before the cpu backend is first
    used: interop never calls mallopt, logs nothing, and glibc keeps its defaults."""
    use = """
x = it.ones(1000, device="cpu") * 2
it.get_backend("cpu").ns.index_add(np.zeros(4), 0, np.array([1, 1]), np.ones(2))
state("cpu")
"""
    for r in (_malloc_probe(use, INTEROP_MALLOC="default"),
              _malloc_probe("it.backends.set_malloc_tuning(False)\n" + use)):
        assert r["cpu"]["calls"] == 0 and not r["cpu"]["applied"] and r["cpu"]["notices"] == 0
        assert r["cpu"]["mapped"] in (None, 1)
    # set_malloc_tuning overrides the environment either way
    r = _malloc_probe("it.backends.set_malloc_tuning(True)\n" + use, INTEROP_MALLOC="default")
    assert r["cpu"]["applied"] and r["cpu"]["calls"] == 2 and r["cpu"]["mapped"] in (None, 0)
    with pytest.raises(TypeError, match="True or False.*'off'"):
        it.backends.set_malloc_tuning("off")
    # the bug-report screen says whether malloc was tuned
    p = subprocess.run([sys.executable, "-m", "interop", "--json"], capture_output=True,
                       text=True, cwd=str(REPO), timeout=120,
                       env=dict(os.environ, PYTHONPATH=str(REPO), INTEROP_MALLOC="default"))
    assert p.returncode == 0, p.stderr
    report = json.loads(p.stdout)
    assert report["backends"]["cpu"]["malloc_tuned"] is False
    assert report["environment"]["INTEROP_MALLOC"] == "default"


def test_dtype_tables_keep_bool_and_drop_dtypes_the_namespace_cannot_add():
    """A backend offers a dtype only if it can compute with it: array-api-strict adds no
    bools (logical_or is their sum) and keeps bool; PyTorch's namespace names uint16/32/64
    but has no arithmetic for them, so they are left out rather than failing in every op."""
    assert it.bool in it.get_backend("strict").to_native
    torch_ns = pytest.importorskip("array_api_compat.torch")
    be = Backend("torch-dtypes", torch_ns)
    assert it.bool in be.to_native and it.uint8 in be.to_native
    assert not {it.uint16, it.uint32, it.uint64} & set(be.to_native)


_SCALARS = (0.1, -0.0, 0.0, 3, -7, 1e-8, 1e30, float("inf"), float("-inf"), float("nan"), 2 ** 60)
_OPERATORS = ("__add__", "__sub__", "__mul__", "__truediv__", "__radd__", "__rsub__", "__rmul__",
              "__rtruediv__")


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_a_python_scalar_operand_gives_what_the_library_gives(be, dtype):
    # binary() hands a float or int operand of a float tensor over as a cached 0-d array
    # (Backend.scalar): bit for bit what the library computes with the Python scalar itself,
    # signed zeros, NaN, overflow and ints beyond float64's exact range included
    dt = getattr(it, dtype)
    if dt not in be.to_native:
        pytest.skip(f"{dtype} is not on backend {be.name}")
    x = it.asarray(np.random.default_rng(0).standard_normal(40) * 100, dtype=dt)
    xd = x._data
    xp = x._be.xp
    for s in _SCALARS:
        for op in _OPERATORS:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                got = x._be.to_host(getattr(x, op)(s)._data)
                want = x._be.to_host(getattr(xd, op)(s))
            assert got.dtype == want.dtype, (s, op)
            np.testing.assert_array_equal(got, want, err_msg=f"{op} {s!r}")
            np.testing.assert_array_equal(np.signbit(got), np.signbit(want), err_msg=f"{op} {s!r}")


def test_backend_scalar_is_cached_and_refuses_what_a_cache_cannot_tell_apart():
    be = it.get_backend("cpu")
    f32 = be.native_dtype(it.float32)
    assert be.scalar(0.5, f32) is be.scalar(0.5, f32)
    assert be.scalar(0.5, f32).shape == () and be.scalar(0.5, f32).dtype == f32
    assert be.scalar(0.0, f32) is None and be.scalar(-0.0, f32) is None
    assert be.scalar(float("nan"), f32) is None
