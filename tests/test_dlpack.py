"""DLPack interchange on the CPU: interop tensors as producers and consumers, with NumPy,
PyTorch and JAX on the other side.

"Shared" is checked two ways every time: the data pointers are equal, and a write on one
side is seen on the other. The traps measured in shared/research/dlpack-cpu-matrix.md
each have a test: torch aborting on negative strides (run in a subprocess), read-only
producers, JAX's 64-byte alignment rule, consumed capsules.
"""

import gc
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import interop as it
from interop.backends._dlpack import capsule_info, READ_ONLY, IS_COPIED

torch = pytest.importorskip("torch")


def ptr(x):
    """The address of the first element, for any array or tensor here."""
    if isinstance(x, np.ndarray):
        return x.__array_interface__["data"][0]
    if isinstance(x, torch.Tensor):
        return x.data_ptr()
    if isinstance(x, it.Tensor):                   # the backend array underneath
        d = getattr(x._data, "_array", x._data)    # (array-api-strict wraps a NumPy array)
        return ptr(d if hasattr(d, "data_ptr") else np.asarray(d))
    return x.unsafe_buffer_pointer()     # jax


def host(x):
    return np.asarray(x.detach().numpy() if isinstance(x, torch.Tensor) else x)


# --------------------------------------------------------------- interop -> consumers

LAYOUTS = {
    "contiguous": lambda t: t,
    "transposed": lambda t: t.T,
    "strided": lambda t: t[:, ::2],
    "offset": lambda t: t[1:],
    "row": lambda t: t[2],
    "zero_d": lambda t: t[1, 2],
    "empty": lambda t: t[:0],
    "broadcast": lambda t: t[:1].expand(3, 4),
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("consumer", ["numpy", "torch"])
def test_export_is_a_view_in_every_layout(be, layout, consumer):
    base = it.arange(12.0, dtype=it.float32).reshape(3, 4)
    x = LAYOUTS[layout](base)
    expected = x.numpy().copy()
    y = np.from_dlpack(x) if consumer == "numpy" else torch.from_dlpack(x)
    assert tuple(y.shape) == tuple(x.shape)
    np.testing.assert_array_equal(host(y), expected)
    if x.numel() == 0:
        return
    assert ptr(y) == ptr(x)
    if layout != "broadcast":          # a write through the consumer lands in interop's memory
        flat_first = (0,) * x.ndim
        y[flat_first] = -7.0
        assert float(x[flat_first] if x.ndim else x) == -7.0


@pytest.mark.parametrize("dtype", ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16",
                                   "uint32", "uint64", "float16", "float32", "float64",
                                   "complex64", "complex128"])
def test_every_dtype_round_trips_through_numpy_and_torch(be, dtype):
    dt = getattr(it, dtype)
    if dt not in be.to_native:
        pytest.skip(f"backend {be.name} has no {dtype}")
    src = (np.arange(6) % 2 == 1) if dtype == "bool" else (np.arange(6) * 3).astype(dtype)
    x = it.tensor(src, dtype=dt)
    for consumer in (np.from_dlpack, torch.from_dlpack):
        if consumer is torch.from_dlpack and dtype in ("uint16", "uint32", "uint64"):
            continue     # torch 2.13 has these only as shell dtypes without arithmetic
        y = consumer(x)
        np.testing.assert_array_equal(host(y), src)
        assert ptr(y) == ptr(x)
    back = it.from_dlpack(np.from_dlpack(x))
    assert back.dtype == dt and ptr(back) == ptr(x)


def test_bfloat16_goes_to_torch_and_back_zero_copy():
    with it.use_backend("torch"):
        x = it.arange(4.0, dtype=it.bfloat16)
        y = torch.from_dlpack(x)
        assert y.dtype == torch.bfloat16 and ptr(y) == ptr(x)
        z = it.from_dlpack(torch.ones(3, dtype=torch.bfloat16))
        assert z.dtype == it.bfloat16


def test_dlpack_device_is_plain_ints(be):
    d = it.ones(2).__dlpack_device__()
    assert d == (1, 0) and all(type(v) is int for v in d)


def test_capsule_version_follows_max_version(be):
    x = it.ones(3)
    assert capsule_info(x.__dlpack__()).versioned is False
    info = capsule_info(x.__dlpack__(max_version=(1, 0)))
    assert info.versioned and info.version[0] == 1


def test_requires_grad_is_refused_and_detach_exports(be):
    w = it.ones(3, requires_grad=True)
    for consumer in (np.from_dlpack, torch.from_dlpack):
        with pytest.raises(BufferError, match="detach"):
            consumer(w)
    with pytest.raises(BufferError, match="detach"):
        (w * 2).__dlpack__()
    n = np.from_dlpack(w.detach())
    assert ptr(n) == ptr(w.detach())


def test_copy_keyword_of_the_export(be):
    x = it.arange(4.0)
    c = np.from_dlpack(x, copy=True)
    assert ptr(c) != ptr(x)
    c[0] = 100.0
    assert float(x[0]) == 0.0
    flags = capsule_info(x.__dlpack__(max_version=(1, 0), copy=True)).flags
    if be.name != "torch":      # torch does not set IS_COPIED (research note, finding 10)
        assert flags & IS_COPIED
    v = np.from_dlpack(x, copy=False)
    assert ptr(v) == ptr(x)
    with pytest.raises(ValueError, match="copy must be"):
        x.__dlpack__(copy="yes")


def test_negative_strides_export_as_a_compact_copy_or_refuse(be):
    x = it.arange(6.0)[::-1]
    if be.name == "torch":
        pytest.skip("torch's namespace has no negative-step views")
    assert any(s < 0 for s in be.strides(x._data))
    info = capsule_info(x.__dlpack__(max_version=(1, 0)))
    assert info.strides in (None, (1,))
    np.testing.assert_array_equal(np.from_dlpack(x), [5, 4, 3, 2, 1, 0])
    with pytest.raises(BufferError, match="negative strides"):
        x.__dlpack__(copy=False)


def test_negative_strides_never_reach_torch_in_any_direction():
    # torch.from_dlpack kills the process (SIGABRT) on a negative-stride capsule, so this runs in
    # a child process: exit code 0 and the right values, or the test fails.
    code = textwrap.dedent("""
        import numpy as np, torch, interop as it, array_api_compat.torch as ct
        x = it.arange(12.0).reshape(3, 4)[:, ::-1]
        t = torch.from_dlpack(x)
        assert t.tolist() == x.tolist(), (t, x)
        t2 = torch.utils.dlpack.from_dlpack(it.utils.dlpack.to_dlpack(it.arange(5.0)[::-1]))
        assert t2.tolist() == [4.0, 3.0, 2.0, 1.0, 0.0]
        it.backends.register_backend("torch", ct)
        with it.use_backend("torch"):
            y = it.from_dlpack(np.arange(6.0)[::-1])
            assert y.tolist() == [5.0, 4.0, 3.0, 2.0, 1.0, 0.0]
            try:
                it.from_dlpack(np.arange(6.0)[::-1], copy=False)
                raise SystemExit("no error for copy=False")
            except BufferError:
                pass
        print("ok")
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "ok", (r.returncode, r.stdout, r.stderr[-2000:])


# --------------------------------------------------------------- producers -> interop

@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided", "offset", "zero_d",
                                    "empty", "negative"])
@pytest.mark.parametrize("producer", ["numpy", "torch"])
def test_import_is_a_view(be, producer, layout):
    base = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    src = {"contiguous": base, "transposed": base.T, "strided": base[:, ::2], "offset": base[1:],
           "zero_d": base[1, 2, ...], "empty": base[:0], "negative": base[::-1]}[layout]
    if producer == "torch":
        if layout == "negative":
            pytest.skip("torch has no negative strides")
        src = torch.from_numpy(np.ascontiguousarray(base))
        src = {"contiguous": src, "transposed": src.T, "strided": src[:, ::2], "offset": src[1:],
               "zero_d": src[1, 2], "empty": src[:0]}[layout]
    expected = host(src).copy()
    t = it.from_dlpack(src)
    assert t.backend is be and not t.requires_grad
    np.testing.assert_array_equal(t.numpy(), expected)
    if t.numel() == 0:
        return
    if layout == "negative" and not be.negative_steps:
        assert ptr(t) != ptr(src)     # a compact copy: the backend cannot view it
        return
    assert ptr(t) == ptr(src)
    t[(0,) * t.ndim] = 42.0
    assert host(src)[(0,) * t.ndim] == 42.0


def test_import_copy_keyword(be):
    a = np.arange(5.0)
    c = it.from_dlpack(a, copy=True)
    assert ptr(c) != ptr(a)
    c[0] = 9.0
    assert a[0] == 0.0
    v = it.from_dlpack(a, copy=False)
    assert ptr(v) == ptr(a)
    with pytest.raises(ValueError, match="copy must be"):
        it.from_dlpack(a, copy=1)


def test_read_only_producers_give_read_only_tensors(be):
    a = np.arange(4.0)
    a.flags.writeable = False
    t = it.from_dlpack(a)
    assert ptr(t) == ptr(a)
    for write in (lambda: t.add_(1), lambda: t.__setitem__(0, 5.0), lambda: t[1:].zero_()):
        with pytest.raises(RuntimeError, match="read-only"):
            write()
    np.testing.assert_array_equal(a, [0, 1, 2, 3])
    u = t + 1                            # reading is fine; results are ordinary tensors
    u.add_(1)
    c = t.clone()
    c.add_(1)
    if be.name != "torch":               # re-exported, the memory stays marked read-only
        assert capsule_info(t.__dlpack__(max_version=(1, 0))).flags & READ_ONLY
        assert not np.from_dlpack(t).flags.writeable


def test_lifetime_outlives_the_producer(be):
    n = 1 << 20                          # big enough that glibc serves it with mmap
    a = np.arange(n, dtype=np.float64)
    t = it.from_dlpack(a)
    del a
    gc.collect()
    junk = [np.full(n, 7.0) for _ in range(4)]
    assert float(t[-1]) == n - 1 and float(t.sum()) == n * (n - 1) / 2
    x = it.arange(float(n), dtype=it.float64)
    y = torch.from_dlpack(x)
    z = np.from_dlpack(x)
    del x, junk
    gc.collect()
    junk = [np.full(n, 7.0) for _ in range(4)]      # reuse the freed memory, if it were freed
    assert float(y[-1]) == n - 1 and z[-1] == n - 1 and len(junk) == 4


def test_torch_producer_outlives_too(be):
    t = it.from_dlpack(torch.arange(1000.0))
    gc.collect()
    assert float(t.sum()) == 499500.0


def test_raw_capsules_legacy_and_versioned(be):
    cap = torch.utils.dlpack.to_dlpack(torch.arange(3.0))
    t = it.utils.dlpack.from_dlpack(cap)
    np.testing.assert_array_equal(t.numpy(), [0, 1, 2])
    with pytest.raises(ValueError, match="consumed only once"):
        it.from_dlpack(cap)
    v = np.arange(4.0).__dlpack__(max_version=(1, 0))
    assert capsule_info(v).versioned
    np.testing.assert_array_equal(it.from_dlpack(v).numpy(), [0, 1, 2, 3])
    mine = it.utils.dlpack.to_dlpack(it.arange(3.0))
    assert not capsule_info(mine).versioned          # what torch.utils.dlpack gives too
    np.testing.assert_array_equal(torch.utils.dlpack.from_dlpack(mine).numpy(), [0, 1, 2])


def test_bad_input_names_what_was_expected(be):
    with pytest.raises(TypeError, match="__dlpack__"):
        it.from_dlpack([1.0, 2.0])
    with pytest.raises(TypeError, match="interop Tensor"):
        it.utils.dlpack.to_dlpack(np.ones(2))
    if not it.cuda.is_available():
        with pytest.raises(it.backends.BackendUnavailable, match="cuda:0"):
            it.from_dlpack(_FakeProducer((2, 0)))


class _FakeProducer:
    """An object whose data claims to be on a device (for the device routing checks)."""

    def __init__(self, device):
        self.device = device

    def __dlpack_device__(self):
        return self.device

    def __dlpack__(self, **kw):     # what a GPU producer's capsule makes a CPU consumer say
        raise BufferError("unsupported device in DLTensor")


def test_unknown_devices_are_refused_with_the_device_named():
    with pytest.raises(BufferError, match="opencl"):
        it.from_dlpack(_FakeProducer((4, 0)))


def test_from_dlpack_of_an_interop_tensor_shares_memory(be):
    x = it.arange(3.0)
    y = it.from_dlpack(x)
    assert ptr(y) == ptr(x)
    y.add_(1)
    np.testing.assert_array_equal(x.numpy(), [1, 2, 3])


# --------------------------------------------------------------- JAX

jax = None


@pytest.fixture
def jnp():
    global jax
    jax = pytest.importorskip("jax")
    return pytest.importorskip("jax.numpy")


def test_jax_to_interop_is_a_read_only_view(jnp):
    j = jnp.arange(6.0, dtype=jnp.float32).reshape(2, 3)
    t = it.from_dlpack(j)
    assert ptr(t) == j.unsafe_buffer_pointer()
    np.testing.assert_array_equal(t.numpy(), np.asarray(j))
    with pytest.raises(RuntimeError, match="read-only"):
        t.add_(1)


@pytest.mark.parametrize("dtype", ["bool", "int8", "int32", "uint8", "float16", "float32",
                                   "complex64"])
def test_interop_to_jax_dtypes(jnp, dtype):
    x = it.tensor((np.arange(8) % 3).astype(dtype))
    j = jnp.from_dlpack(x)
    np.testing.assert_array_equal(np.asarray(j), x.numpy())


def test_interop_to_jax_large_tensors_are_zero_copy(jnp):
    x = it.zeros(1 << 20)                                # 4 MB: NumPy alone would misalign it
    assert jnp.from_dlpack(x).unsafe_buffer_pointer() == ptr(x)
    for make in (lambda: it.ones(300, 300), lambda: it.randn(100_000), lambda: it.empty(5000),
                 lambda: it.tensor(np.ones(100_000, np.float32)), lambda: it.full((64, 1024), 3.0)):
        t = make()
        assert ptr(t) % 64 == 0
        assert jnp.from_dlpack(t).unsafe_buffer_pointer() == ptr(t)


def test_512mb_hand_off_into_jax_without_a_copy(jnp):
    x = it.zeros(128 * 1024 * 1024)                      # 512 MB of float32, never touched
    j = jnp.from_dlpack(x)
    assert j.unsafe_buffer_pointer() == ptr(x) and j.shape == (128 * 1024 * 1024,)
    del j, x
    gc.collect()


def test_requires_grad_refused_for_jax_too(jnp):
    with pytest.raises(BufferError, match="detach"):
        jnp.from_dlpack(it.ones(2, requires_grad=True))


# --------------------------------------------------------------- devices on a CPU machine

def test_cuda_module_answers_without_a_gpu():
    if it.cuda.is_available():
        pytest.skip("a GPU is present")
    assert it.cuda.device_count() == 0 and it.cuda.current_device() == 0
    with pytest.raises(RuntimeError, match="no usable CUDA GPU"):
        it.cuda.synchronize()
    with pytest.raises(RuntimeError, match="no usable CUDA GPU"):
        it.cuda.current_stream()
    with pytest.raises(ValueError, match="0 CUDA device"):
        it.cuda.set_device(1)


def test_numpy_method_and_cpu_moves(be):
    x = it.arange(3.0)
    assert ptr(x.numpy()) == ptr(x)
    assert x.cpu() is x or ptr(x.cpu()) == ptr(x)
    with pytest.raises(RuntimeError, match="detach"):
        it.ones(2, requires_grad=True).numpy()
    assert it.device("cuda:1").index == 1 and str(it.device("cuda", 1)) == "cuda:1"


def test_read_only_numpy_into_a_jax_backend_is_a_copy():
    """JAX's importer asks for an unversioned capsule, which cannot say "read-only", so NumPy
    refuses to export a read-only array to it; interop imports a copy there (found by the
    conformance suite on jax.numpy), and refuses under copy=False."""
    from helpers import jax_backend
    a = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    a.flags.writeable = False
    with jax_backend() as be:
        t = it.from_dlpack(a)
        assert t.backend is be and t.tolist() == a.tolist()
        with pytest.raises(BufferError, match="readonly"):
            it.from_dlpack(a, copy=False)
