"""The ``cpu`` backend: NumPy through array-api-compat, with native kernels."""

import ctypes
import importlib.util
import itertools
import math
import sys
import types

import numpy as np
import array_api_compat.numpy as xp_numpy

from . import (_fallbacks, _jit, _jit_act, _jit_conv, _jit_gemm, _jit_norm, _jit_optim, _jit_pool,
               _jit_rnn, _shared)
from .. import dtypes as _dt
from ._base import Backend
from ._fallbacks import window_key
from ._kernels import sum_to_axes, windows_shape
from ._malloc import tune_malloc
from ._dlpack import capsule_info, CapsuleProducer, is_capsule, set_dtype

# bfloat16 on the CPU: ml_dtypes' NumPy dtype (the one JAX uses), where installed. ml_dtypes
# takes most of a second to import, so it is imported when bfloat16 is first asked for (or at
# once where something, JAX say, has imported it already): until then BFLOAT16 is None.
BFLOAT16 = None
_ML_DTYPES = importlib.util.find_spec("ml_dtypes") is not None


def load_bfloat16():
    """ml_dtypes' bfloat16 NumPy dtype, importing ml_dtypes on first use; None without it."""
    global BFLOAT16
    if BFLOAT16 is None and _ML_DTYPES:
        import ml_dtypes
        BFLOAT16 = np.dtype(ml_dtypes.bfloat16)
    return BFLOAT16

_DL_BFLOAT = 4        # DLDataTypeCode kDLBfloat

# Large arrays that interop allocates itself (creation functions, copies of imported data,
# random draws) start on a 64-byte boundary: JAX imports a DLPack buffer without a copy only
# when it is so aligned, and NumPy's allocator guarantees 16 bytes (glibc's mmap'd blocks, every
# allocation of 1 MB or more, sit at 16 past a page). Arrays under 1 KB keep NumPy's allocator.
ALIGNMENT = 64
ALIGN_FROM_BYTES = 1 << 10


def _aligned(shape, dtype, zero):
    """A new array of ``shape`` and ``dtype`` whose data starts on an ALIGNMENT boundary,
    zero-filled (lazily, by calloc) where ``zero``."""
    n = math.prod(shape) * dtype.itemsize
    buf = (np.zeros if zero else np.empty)(n + ALIGNMENT, np.uint8)
    start = -buf.__array_interface__["data"][0] % ALIGNMENT
    return buf[start:start + n].view(dtype).reshape(shape)


def _into_aligned(a):
    """``a`` itself when it is small or already aligned, else an aligned copy of it."""
    if a.nbytes < ALIGN_FROM_BYTES or a.__array_interface__["data"][0] % ALIGNMENT == 0:
        return a
    out = _aligned(a.shape, a.dtype, False)
    np.copyto(out, a)
    return out


# Large enough that a branch-free select or a sort-and-reduce beats NumPy's own routine.
SELECT_FROM = 1 << 12          # elements, for where
SEGMENT_FROM = 1 << 9          # added values, for the accumulating kernels
_UINT = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def where(condition, x1, x2, /):
    """The standard's ``where``. For large arrays of one shape and dtype it selects with bit
    masks: ``np.where`` branches per element and, on an unpredictable condition (a ReLU's
    sign pattern), costs ~10x an arithmetic pass. Exact: the chosen bits are copied. One
    branch may be the Python number 0 (a ReLU and its gradient): its bits are all zero, so
    the select is one ``and`` with the mask."""
    if condition.__class__ is np.ndarray and condition.dtype == np.bool_ \
            and condition.size >= SELECT_FROM:
        c1, c2 = x1.__class__, x2.__class__
        if c1 is np.ndarray and c2 is np.ndarray:
            if x1.dtype == x2.dtype and x1.dtype.kind in "fiub" \
                    and x1.shape == x2.shape == condition.shape:
                u = _UINT[x1.dtype.itemsize]
                mask = condition.astype(u)
                np.negative(mask, out=mask)              # 1 -> all bits set, 0 -> none
                b = x2.view(u)
                out = np.bitwise_xor(x1.view(u), b)
                np.bitwise_and(out, mask, out=out)
                np.bitwise_xor(out, b, out=out)
                return out.view(x1.dtype)
        elif c2 is np.ndarray and _plain_zero(x1, x2):
            if x2.shape == condition.shape:
                return _select_or_zero(condition, x2, True)
        elif c1 is np.ndarray and _plain_zero(x2, x1):
            if x1.shape == condition.shape:
                return _select_or_zero(condition, x1, False)
    return xp_numpy.where(condition, x1, x2)


MATERIALIZE_UNDER = 1 << 10    # elements, for broadcast_to in backward formulas


def _gradient_broadcast_to(x, shape):
    """``broadcast_to`` as backward formulas get it (``be.ns``, not ``be.xp``: a forward
    broadcast stays a view): a small result is a new array, as cheap as the view (NumPy's
    ``broadcast_to`` is Python code: ~1.8 us, which is most of the backward of a small
    ``sum()``); a large one stays a read-only view (no memory)."""
    if x.__class__ is np.ndarray and math.prod(shape) < MATERIALIZE_UNDER:
        out = np.empty(shape, x.dtype)
        try:
            out[...] = x
        except ValueError:      # (not broadcastable: NumPy's own error, worded as usual)
            return xp_numpy.broadcast_to(x, shape)
        return out
    return xp_numpy.broadcast_to(x, shape)


def _plain_zero(z, x):
    """Python number ``z`` is a zero whose bits are all clear and which keeps ``x``'s dtype:
    the int 0 with a numeric ``x``, the float +0.0 with a floating one."""
    c = z.__class__
    if c is int:
        return z == 0 and x.dtype.kind in "fiu"
    return c is float and z == 0 and math.copysign(1.0, z) > 0 and x.dtype.kind == "f"


def _select_or_zero(condition, x, zero_where):
    """``x`` where ``condition`` is ``not zero_where``, else +0 (all bits clear)."""
    u = _UINT[x.dtype.itemsize]
    mask = condition.astype(u)
    if zero_where:
        mask -= 1                                    # True -> 0, False -> all bits set
    else:
        np.negative(mask, out=mask)                  # True -> all bits set, False -> 0
    np.bitwise_and(x.view(u), mask, out=mask)
    return mask.view(x.dtype)


def _in_float32(fn, n_arrays=1):
    """``fn`` that, given bfloat16 arrays among its first ``n_arrays`` (1 or 2) arguments,
    computes in float32 and rounds the result back once, as PyTorch does on the CPU:
    ml_dtypes' own loops would accumulate sums in bfloat16 (or give float32 or float64
    results). Other dtypes pay a global lookup and one or two identity checks (ml_dtypes'
    dtype is a singleton)."""
    def slow(args, kwargs):
        bf = BFLOAT16
        args = [a.astype(np.float32) if getattr(a, "dtype", None) is bf else a for a in args]
        out = fn(*args, **kwargs)
        if kwargs.get("dtype") is None and getattr(out, "dtype", None) in (np.float32, np.float64):
            out = out.astype(bf)
        return out

    if n_arrays == 1:
        def f(x, *args, **kwargs):
            if BFLOAT16 is not None and getattr(x, "dtype", None) is BFLOAT16:
                return slow((x,) + args, kwargs)
            return fn(x, *args, **kwargs)
    else:
        def f(x1, x2, *args, **kwargs):
            if BFLOAT16 is not None and (getattr(x1, "dtype", None) is BFLOAT16
                                         or getattr(x2, "dtype", None) is BFLOAT16):
                return slow((x1, x2) + args, kwargs)
            return fn(x1, x2, *args, **kwargs)
    f.__name__ = getattr(fn, "__name__", "f")
    f.__doc__ = fn.__doc__
    return f


# The functions that accumulate (or that ml_dtypes cannot run on bfloat16): computed in float32
# for bfloat16 arrays, with the number of leading array arguments.
_BF16_FLOAT32 = {"sum": 1, "prod": 1, "mean": 1, "std": 1, "var": 1, "cumulative_sum": 1,
                 "cumulative_prod": 1, "matmul": 2, "tensordot": 2, "vecdot": 2, "clip": 1}
# linalg functions computed in float32 for bfloat16, with how many array arguments each takes
_BF16_LINALG = {"vector_norm": 1, "matrix_norm": 1, "matmul": 2, "tensordot": 2, "vecdot": 2}


def _namespace():
    """array-api-compat's NumPy namespace with the faster ``where``, the standard's
    ``__array_namespace_info__`` (the one dunder name a namespace must have), and, where
    ml_dtypes is installed, bfloat16 reductions and products computed in float32."""
    ns = types.SimpleNamespace(**{k: getattr(xp_numpy, k) for k in dir(xp_numpy)
                                  if not k.startswith("__") or k == "__array_namespace_info__"})
    ns.where = where
    if _ML_DTYPES:
        for name, n in _BF16_FLOAT32.items():
            setattr(ns, name, _in_float32(getattr(xp_numpy, name), n))
        linalg = xp_numpy.linalg
        ns.linalg = types.SimpleNamespace(**{k: getattr(linalg, k) for k in dir(linalg)
                                             if not k.startswith("__")})
        for name, n in _BF16_LINALG.items():
            setattr(ns.linalg, name, _in_float32(getattr(linalg, name), n))
    ns.matmul = _compiled_matmul(ns.matmul)
    ns.tensordot = _compiled_tensordot(ns.tensordot, ns.matmul)
    return ns


def _compiled_matmul(fallback):
    """``matmul`` that hands large float32 products to the compiled kernel of _jit_gemm.py
    where the compiled path is on (and the processor has AVX-512), with as many threads as
    the BLAS pool has now; ``fallback`` (NumPy's) takes every other product."""
    def matmul(x1, x2, /):
        if _jit.enabled() and x1.__class__ is np.ndarray and x2.__class__ is np.ndarray:
            out = _jit_gemm.product(x1, x2, threads=None)
            if out is not None:
                return out
        return fallback(x1, x2)
    matmul.__doc__ = fallback.__doc__
    return matmul


_SPREAD = 16            # elements added between samples whose step is a multiple of 4 KiB


def _compiled_tensordot(fallback, matmul):
    """``tensordot`` that takes ``axes=([0, 2], [0, 2])`` of 3-d float arrays of one dtype (a
    sum over the first axis of products: the weight gradient of a convolution whose
    products run per sample) as the compiled dot products of _jit_conv.py where they take
    it, else as batched products (``matmul``) and their sum (NumPy's tensordot first copies
    the first operand into one matrix: conv2d 1->32's weight gradient then took 1.9 ms
    against 1.4); ``fallback`` (NumPy's) takes every other contraction."""
    def tensordot(x1, x2, /, *, axes=2):
        if (x1.__class__ is np.ndarray and x2.__class__ is np.ndarray and x1.ndim == 3
                and x2.ndim == 3 and not isinstance(axes, int) and x1.dtype == x2.dtype
                and x1.dtype.kind in "fc" and x1.shape[0] == x2.shape[0]
                and x1.shape[2] == x2.shape[2]):
            try:
                pairs = tuple(tuple(int(i) for i in a) for a in axes)
            except TypeError:
                pairs = None
            if pairs == ((0, 2), (0, 2)):
                if _jit.enabled():
                    out = _jit_conv.summed_products(x1, x2)
                    if out is not None:
                        return out
                return matmul(x1, np.swapaxes(x2, 1, 2)).sum(axis=0)
        return fallback(x1, x2, axes=axes)
    tensordot.__doc__ = fallback.__doc__
    return tensordot


def _bf16_capsule_to_array(capsule):
    """A NumPy bfloat16 view of the memory of a DLPack capsule holding bfloat16 data (NumPy's
    own importer refuses that dtype). The capsule, left unconsumed, stays alive as long as
    the view does; when it goes, its destructor calls the producer's deleter."""
    info = capsule_info(capsule)
    if info.device[0] != 1:
        raise BufferError(f"bfloat16 data on DLPack device {info.device} cannot be viewed by "
                          f"the cpu backend")
    n = math.prod(info.shape)
    strides = info.strides
    if strides is None:
        strides = tuple(math.prod(info.shape[i + 1:]) for i in range(len(info.shape)))
    if n == 0:
        return np.zeros(info.shape, BFLOAT16), info.read_only
    lo = sum((d - 1) * s for d, s in zip(info.shape, strides) if s < 0)
    hi = sum((d - 1) * s for d, s in zip(info.shape, strides) if s > 0)
    buf = (ctypes.c_uint16 * (hi - lo + 1)).from_address(info.data + 2 * lo)
    buf._capsule = capsule                  # the memory's owner lives as long as the view
    base = np.frombuffer(buf, dtype=np.uint16)
    a = np.lib.stride_tricks.as_strided(base[-lo:], info.shape, tuple(2 * s for s in strides),
                                        writeable=not info.read_only)
    return a.view(BFLOAT16), info.read_only


def _bf16_capsule(array, **kw):
    """A DLPack capsule of a bfloat16 array: NumPy's capsule of its uint16 view, with the
    dtype in the capsule's DLTensor set to bfloat16 (the bits are the same; NumPy's deleter
    does not read the dtype)."""
    capsule = array.view(np.uint16).__dlpack__(**kw)
    set_dtype(capsule, _DL_BFLOAT, 16)
    return capsule


# Ranks within a position's run added by one fancy-indexed pass each (see _add_segments).
_RANK_PASSES = 8


def _broadcast_plus_zero(x):
    """``x`` is one +0 broadcast (all strides 0: an embedding's zero gradient table), so
    that a fresh ``np.zeros`` is it (and costs half a copy of it)."""
    return (x.ndim > 0 and x.size > 0 and not any(x.strides) and x.dtype.kind in "fiuc"
            and not x.flat[0] and not np.signbit(np.real(x.flat[0])))


def _add_segments(out, pos, values, zero=False):
    """``out[pos[i]] += values[i]`` along axis 0, repeated positions accumulating, from a
    stable sort of ``pos`` (``np.add.at`` is ~10x slower per element).
    Positions nothing is added to are untouched, bit for bit. Not for bools.

    Scalars per position: one ``np.add.reduceat`` over the sorted runs. Rows per position
    (an embedding's gradient): ``reduceat`` loops per run, slow when most runs are short, so
    the r-th rows of all runs (whose positions are distinct) are added straight into ``out``
    in one fancy-indexed pass per rank r, each row taken from ``values`` once; runs longer
    than ``_RANK_PASSES`` finish with a ``reduceat`` over their remaining rows only."""
    n = len(pos)
    if n == 0:
        return
    order = np.argsort(pos, kind="stable")
    p = pos[order]
    first = np.empty(n, bool)
    first[0] = True
    np.not_equal(p[1:], p[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    if values.ndim == 1:
        out[p[starts]] += np.add.reduceat(values[order], starts)
        return
    if len(starts) == n:                     # no position repeats
        _add_rows(out, p, values.take(order, axis=0), zero)
        return
    run = np.cumsum(first) - 1               # the run of each sorted row
    rank = np.arange(n) - starts[run]        # its place within the run
    _add_rows(out, p[starts], values.take(order[starts], axis=0), zero)
    top = int(rank.max())
    for r in range(1, min(top, _RANK_PASSES - 1) + 1):
        rows = np.flatnonzero(rank == r)
        out[p[rows]] += values.take(order[rows], axis=0)
    if top >= _RANK_PASSES:
        rows = np.flatnonzero(rank >= _RANK_PASSES)
        r_ = run[rows]
        heads = np.flatnonzero(np.concatenate(([True], r_[1:] != r_[:-1])))
        out[p[rows[heads]]] += np.add.reduceat(values.take(order[rows], axis=0), heads, axis=0)


def _add_rows(out, rows, v, zero):
    """``out[rows] += v`` for distinct ``rows``; where ``out`` is all +0, ``v + 0.0`` is
    written instead (the same bits: -0 becomes +0 as the sum would, without reading out)."""
    if zero:
        if v.dtype.kind in "fc":
            v += 0.0
        out[rows] = v
    else:
        out[rows] += v


class NumpyBackend(Backend):
    library = "numpy"

    def __init__(self):
        super().__init__("cpu", _namespace(), device="cpu", library="numpy")
        self._scalars = {}      # native dtype -> {value: read-only 0-d array} (see scalar)
        tune_malloc()       # process-wide: see _malloc.py (logged once; INTEROP_MALLOC=default)

    def _build_dtype_tables(self):
        super()._build_dtype_tables()
        for d in list(self.to_native):
            self.from_native[np.dtype(d.name)] = d
        if "ml_dtypes" in sys.modules:      # (already imported: no cost to take it now)
            self._add_bfloat16()
        self._native_sets()

    def _add_bfloat16(self):
        """Put bfloat16 in the dtype tables (importing ml_dtypes); False without ml_dtypes."""
        bf = load_bfloat16()
        if bf is None:
            return False
        if _dt.bfloat16 not in self.to_native:
            self.to_native[_dt.bfloat16] = bf.type
            self.from_native[bf.type] = _dt.bfloat16
            self.from_native[bf] = _dt.bfloat16
            self._native_sets()
        return True

    def native_dtype(self, dtype):
        try:
            return self.to_native[dtype]
        except KeyError:
            if dtype is _dt.bfloat16 and self._add_bfloat16():
                return self.to_native[dtype]
        return super().native_dtype(dtype)       # (its error, naming the dtypes there are)

    def dtype_of(self, array):
        try:
            return self.from_native[array.dtype]
        except KeyError:
            if getattr(array.dtype, "name", None) == "bfloat16" and self._add_bfloat16():
                return self.from_native[array.dtype]
        return super().dtype_of(array)

    def has_dtype(self, dtype):
        """Whether this backend can hold ``dtype`` (bfloat16: where ml_dtypes is installed)."""
        return dtype in self.to_native or (dtype is _dt.bfloat16 and _ML_DTYPES)

    def to_host(self, array):
        return np.asarray(array)

    def empty(self, shape, dtype):
        dtype = np.dtype(dtype)
        if math.prod(shape) * dtype.itemsize >= ALIGN_FROM_BYTES:
            return _aligned(shape, dtype, False)
        return np.empty(shape, dtype)

    def full(self, shape, fill_value, dtype):
        dtype = np.dtype(dtype)
        if not shape:
            return np.array(fill_value, dtype)
        # zeroed memory is +0 only: a -0.0 (or -0.0 imaginary part) must be written
        zero = fill_value == 0 and not np.signbit(np.real(fill_value)) \
            and not np.signbit(np.imag(fill_value))
        if math.prod(shape) * dtype.itemsize < ALIGN_FROM_BYTES:
            return np.zeros(shape, dtype) if zero else np.full(shape, fill_value, dtype)
        out = _aligned(shape, dtype, zero)
        if not zero:
            out[...] = fill_value
        return out

    def convert(self, obj, dtype=None, copy=None):
        if not copy:
            return super().convert(obj, dtype, copy)
        a = super().convert(obj, dtype, None)
        a = a if isinstance(a, np.ndarray) else np.asarray(a)
        if a.nbytes < ALIGN_FROM_BYTES:
            return np.array(a, copy=True)
        out = _aligned(a.shape, a.dtype, False)
        np.copyto(out, a)
        return out

    def read_only(self, array):
        return isinstance(array, np.ndarray) and not array.flags.writeable

    def share_memory(self, array):
        return _shared.share_array(array)

    def is_shared(self, array):
        return _shared.is_shared(array)

    def shared_handle(self, array):
        if not _shared.is_shared(array):
            array = _shared.share_array(array)
        return _shared.handle(array)

    def attach_shared(self, handle):
        return _shared.attach(handle)

    def rebase_shared(self, view, old, new):
        return _shared.rebase(view, old, new)

    def to_dlpack(self, array, **kw):
        # 0-d results are NumPy scalars here, which have no __dlpack__
        array = array if isinstance(array, np.ndarray) else np.asarray(array)
        if BFLOAT16 is not None and array.dtype is BFLOAT16:
            st = self.strides(array)
            if (st is not None and any(s < 0 for s in st)) or kw.get("copy"):
                if st is not None and any(s < 0 for s in st) and kw.get("copy") is False:
                    return super().to_dlpack(array, **kw)        # (its BufferError)
                array = np.array(array, copy=True, order="C")
                kw = {k: v for k, v in kw.items() if k != "copy"}
            kw = {k: v for k, v in kw.items() if v is not None}
            return _bf16_capsule(array, **kw)
        return super().to_dlpack(array, **kw)

    def from_dlpack(self, obj, copy=None):
        if is_capsule(obj):
            obj = CapsuleProducer(obj)
        if isinstance(obj, CapsuleProducer):     # a capsule can be asked for only once
            if obj._info.dtype != (_DL_BFLOAT, 16, 1) or not self._add_bfloat16():
                return super().from_dlpack(obj, copy=copy)
            capsule = obj.__dlpack__(max_version=(1, 0))
        else:
            try:
                return super().from_dlpack(obj, copy=copy)
            except RuntimeError as e:
                if "Unsupported dtype" not in str(e) or not self._add_bfloat16():
                    raise
            # bfloat16 (NumPy has no DLPack code for it): viewed through ctypes
            try:
                capsule = obj.__dlpack__(max_version=(1, 0), dl_device=None, copy=None)
            except TypeError:
                capsule = obj.__dlpack__()
        info = capsule_info(capsule)
        if info.dtype != (_DL_BFLOAT, 16, 1):
            raise RuntimeError(f"from_dlpack: backend 'cpu' cannot import DLPack dtype (code, "
                               f"bits, lanes) = {info.dtype}")
        array, read_only = _bf16_capsule_to_array(capsule)
        # a legacy capsule cannot say its memory is read-only (JAX's are): NumPy's rule for
        # them is read-only, and so is this view
        read_only = read_only or not info.versioned
        if read_only:
            array.flags.writeable = False
        if copy:
            return np.array(array, copy=True), False
        return array, read_only

    def from_host(self, host_array, dtype=None):
        return np.asarray(host_array, dtype=None if dtype is None else dtype.name)

    # Native kernels: the table's semantics (interop/backends/_kernels.py), on arguments
    # Backend has already checked; results agree with the standard-only fallbacks.
    def _build_kernel_namespace(self):
        ns = super()._build_kernel_namespace()
        ns.broadcast_to = _gradient_broadcast_to
        return ns

    def scalar(self, value, native):
        # NumPy converts a Python scalar operand to the array's dtype first (NEP 50), then
        # computes: a 0-d array of that dtype gives the same bits, in half the time on small
        # arrays (~0.25 us instead of ~0.5). None for 0 (a cache cannot tell -0.0 from 0.0)
        # and NaN (nor find one).
        if value != value or value == 0:
            return None
        table = self._scalars.get(native)
        if table is None:
            table = self._scalars[native] = {}
        a = table.get(value)
        if a is None:
            if len(table) >= 512:       # (user scalars vary: keep the cache bounded)
                table.clear()
            a = np.array(value, dtype=native)
            a.flags.writeable = False   # (an operand only: never returned, never written)
            table[value] = a
        return a

    def row_major(self, array):
        if array.__class__ is np.ndarray:
            return bool(array.flags.c_contiguous)     # (the same rule, read from the array)
        return super().row_major(array)

    def native_kernels(self):
        return {"getitem": self._getitem_native_first, "add_at": self._add_at,
                "index_add": self._index_add, "scatter_add": self._scatter_add,
                "sum_to": self._sum_to, "windows": self._windows,
                "windows_add": self._windows_add, "batch_to_front": self._batch_to_front,
                "batch_to_back": self._batch_to_back,
                "windows_add_product": self._windows_add_product,
                "windows_product": self._windows_product,
                "product_windows": self._product_windows,
                "window_argmax": self._window_argmax,
                "window_argmax_add": self._window_argmax_add,
                **self._softmax_kernels(),
                **self._normalize_kernels(), **self._channel_kernels(),
                **self._activation_kernels(), "lstm_scan": self._lstm_scan,
                "lstm_scan_backward": self._lstm_scan_backward}

    # ---- the LSTM's time loop (issue 29): float32 compiled (_jit_rnn: one pass per step
    # into buffers for all steps) where numba runs; otherwise the standard-only reference.

    def _lstm_scan(self, xw, h0, c0, w_hh, w_hr, sizes, reverse, keep):
        if xw.dtype == np.float32 and _jit.enabled():
            return _jit_rnn.lstm_scan(xw, h0, c0, w_hh, w_hr, sizes, reverse, keep,
                                      self.xp.matmul)
        return _fallbacks.lstm_scan(self.xp, xw, h0, c0, w_hh, w_hr, sizes, reverse, keep)

    def _lstm_scan_backward(self, g_out, g_hn, g_cn, acts, c_prev, tc, m, w_hh, w_hr, sizes,
                            reverse, need_h0, need_c0):
        if acts.dtype == np.float32 and _jit.enabled():
            return _jit_rnn.lstm_scan_grad(g_out, g_hn, g_cn, acts, c_prev, tc, m, w_hh, w_hr,
                                           sizes, reverse, need_h0, need_c0, self.xp.matmul)
        return _fallbacks.lstm_scan_backward(self.xp, g_out, g_hn, g_cn, acts, c_prev, tc, m,
                                             w_hh, w_hr, sizes, reverse, need_h0, need_c0)

    # ---- softmax rows (issue 29): compiled (_jit_norm) over the last axis of float32
    # arrays (float32 and float64 for softmax's backward, which has no exp) where numba
    # runs; otherwise the standard-only formulas on NumPy, which are also the reference.

    def _softmax_kernels(self):
        return {"softmax": self._softmax, "log_softmax": self._log_softmax,
                "softmax_backward": self._softmax_backward,
                "log_softmax_backward": self._log_softmax_backward}

    def _softmax(self, x, dim):
        if _rows(x, dim, _F32):
            return _jit_norm.softmax_rows(_as_rows(x), False).reshape(x.shape)
        return _fallbacks.softmax(self.xp, x, dim)

    def _log_softmax(self, x, dim):
        if _rows(x, dim, _F32):
            return _jit_norm.softmax_rows(_as_rows(x), True).reshape(x.shape)
        return _fallbacks.softmax(self.xp, x, dim, log=True)

    def _softmax_backward(self, grad, output, dim):
        if _rows(output, dim, _F32_F64):
            return _jit_norm.softmax_grad_rows(_as_rows(grad), _as_rows(output)).reshape(
                output.shape)
        return _fallbacks.softmax_backward(self.xp, grad, output, dim)

    def _log_softmax_backward(self, grad, output, dim):
        if _rows(output, dim, _F32):
            return _jit_norm.log_softmax_grad_rows(_as_rows(grad), _as_rows(output)).reshape(
                output.shape)
        return _fallbacks.log_softmax_backward(self.xp, grad, output, dim)

    # ---- the normalization of rows (issue 29): compiled (_jit_norm) for float32 and float64
    # where numba runs, else the standard-only formulas on NumPy (the reference).

    def _normalize_kernels(self):
        return {"normalize_rows": self._normalize_rows,
                "normalize_rows_backward": self._normalize_rows_backward}

    def _normalize_rows(self, x, weight, bias, eps):
        like = weight if weight is not None else bias
        wshape = (1, x.shape[1], 1) if like is None else tuple(like.shape)
        if _compiled_rows(x, wshape):
            return _jit_norm.normalize_rows(np.ascontiguousarray(x),
                                            _affine(weight, wshape, x.dtype, 1),
                                            _affine(bias, wshape, x.dtype, 0), eps)
        return _fallbacks.normalize_rows(self.xp, x, weight, bias, eps)

    def _normalize_rows_backward(self, grad, x, weight, mean, rstd, wshape):
        if _compiled_rows(x, wshape):
            return _jit_norm.normalize_rows_grad(
                np.ascontiguousarray(grad), np.ascontiguousarray(x),
                _affine(weight, wshape, x.dtype, 1), np.ascontiguousarray(mean),
                np.ascontiguousarray(rstd))
        return _fallbacks.normalize_rows_backward(self.xp, grad, x, weight, mean, rstd, wshape)

    # ---- the normalization of channels (issue 29): compiled (_jit_norm) for float32 and
    # float64 where numba runs, else the standard-only formulas on NumPy (the reference).

    def _channel_kernels(self):
        return {"normalize_channels": self._normalize_channels,
                "normalize_channels_backward": self._normalize_channels_backward}

    def _normalize_channels(self, x, weight, bias, eps):
        if x.dtype in _F32_F64 and _jit.enabled():
            k = (x.shape[1],)
            return _jit_norm.normalize_channels(np.ascontiguousarray(x),
                                                _affine(weight, k, x.dtype, 1),
                                                _affine(bias, k, x.dtype, 0), eps)
        return _fallbacks.normalize_channels(self.xp, x, weight, bias, eps)

    def _normalize_channels_backward(self, grad, x, weight, mean, rstd):
        if x.dtype in _F32_F64 and _jit.enabled():
            return _jit_norm.normalize_channels_grad(
                np.ascontiguousarray(grad), np.ascontiguousarray(x),
                _affine(weight, (x.shape[1],), x.dtype, 1), np.ascontiguousarray(mean),
                np.ascontiguousarray(rstd))
        return _fallbacks.normalize_channels_backward(self.xp, grad, x, weight, mean, rstd)

    # ---- Adam's update (issue 29): one compiled pass (_jit_optim) over C-contiguous float32
    # and float64 arrays where numba runs, else the standard-only passes (the reference)

    def _adam_update_(self, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, weight1, weight2,
                      eps, scale, block, maximize, weight_decay, shrink):
        if (weight1 != 0 and weight2 != 0 and param.dtype in _F32_F64 and _jit.enabled()
                and grad.flags.c_contiguous and all(
                    a is None or (a.flags.c_contiguous and a.flags.writeable)
                    for a in (param, exp_avg, exp_avg_sq, max_exp_avg_sq))):
            _jit_optim.adam_update_(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, weight1,
                                    weight2, eps, scale, maximize, weight_decay, shrink)
        else:       # (a zero weight, a strided view, a read-only array: the reference's way)
            super()._adam_update_(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, weight1,
                                  weight2, eps, scale, block, maximize, weight_decay, shrink)

    def _sum_to(self, x, shape):
        lead, axes = sum_to_axes(x.shape, shape)
        return x.sum(axis=axes, keepdims=True).reshape(shape) if axes else x.reshape(shape)

    def _min_max(self, index):
        return int(index.min()), int(index.max())

    def _add_at(self, x, key, values):
        out = np.array(x, copy=True)
        try:
            np.add.at(out, key, values)
        except ValueError:
            sel = np.shape(x[key])
            try:
                np.broadcast_to(values, sel)
            except ValueError:
                raise ValueError(f"add_at: values of shape {np.shape(values)} do not broadcast "
                                 f"to the indexed shape {sel}") from None
            raise
        return out

    def _index_add(self, x, dim, index, source):
        zero = _broadcast_plus_zero(x)
        out = np.zeros(x.shape, x.dtype) if zero else np.array(x, copy=True)
        if index.size < SEGMENT_FROM or out.dtype == np.bool_:
            np.add.at(out, (slice(None),) * dim + (index,), source)
        else:
            _add_segments(np.moveaxis(out, dim, 0), index, np.moveaxis(source, dim, 0), zero)
        return out

    def _scatter_add(self, x, dim, index, src):
        out = np.array(x, copy=True)
        coords = self._scatter_coords(dim, index)
        if index.size < SEGMENT_FROM or out.dtype == np.bool_:
            np.add.at(out, coords, src)
        else:
            src = src[tuple(slice(0, n) for n in index.shape)]
            pos = np.ravel_multi_index(np.broadcast_arrays(*coords), out.shape)
            _add_segments(out.reshape(-1), pos.reshape(-1), src.reshape(-1))
        return out

    def _windows(self, x, kernel, stride, dilation):
        # A read-only strided view: no copy until a reshape needs one (before the matmul).
        shape = windows_shape(x.shape, kernel, stride, dilation)
        n = len(kernel)
        st = x.strides[x.ndim - n:]
        strides = (x.strides[:x.ndim - n] + tuple(t * d for t, d in zip(st, dilation))
                   + tuple(t * s for t, s in zip(st, stride)))
        return np.lib.stride_tricks.as_strided(x, shape, strides, writeable=False)

    def _windows_add(self, shape, cols, kernel, stride, dilation):
        if _jit.enabled():          # compiled, for 1-d/2-d float windows (_jit_conv.py)
            out = _jit_conv.windows_add(shape, cols, kernel, stride, dilation)
            if out is not None:
                return out
        # One strided add per kernel offset (+= on bools is logical or); an assignment where
        # no two windows share a position (3x faster), into an uninitialized array where they
        # also cover it all. The lead dims are laid out in cols' memory order (a conv's
        # gradient arrives channel-major, or batch-innermost: then the batch dim goes last,
        # after the windowed dims), so each add runs along both operands' rows.
        n = len(kernel)
        lead = len(shape) - n
        counts = cols.shape[lead + n:]
        disjoint = all(_injective(o, k, s, d) for o, k, s, d in zip(counts, kernel, stride,
                                                                    dilation))
        tiled = disjoint and all(o * k == m for o, k, m in zip(counts, kernel, shape[lead:]))
        order = sorted(range(lead), key=lambda a: -cols.strides[a])
        below = min((abs(t) for t, m in zip(cols.strides[lead:], cols.shape[lead:]) if m > 1),
                    default=0)
        inner = [a for a in order if cols.shape[a] > 1 and abs(cols.strides[a]) < below]
        outer = [a for a in order if a not in inner]
        m = len(outer)
        cols = cols.transpose(outer + list(range(lead, cols.ndim)) + inner)
        layout = (tuple(shape[a] for a in outer) + tuple(shape[lead:])
                  + tuple(shape[a] for a in inner))
        if tiled and cols.size:
            buf = self.empty(layout, cols.dtype)
        else:
            buf = self.full(layout, 0, cols.dtype)
        if cols.size:
            for k in itertools.product(*map(range, kernel)):
                key = window_key(m, k, counts, stride, dilation)
                piece = cols[(slice(None),) * m + k]
                if disjoint:
                    buf[key] = piece
                else:
                    buf[key] += piece
        axes = outer + list(range(lead, len(shape))) + inner     # buf's dims, as shape's
        if axes == list(range(len(shape))):
            return buf
        return np.ascontiguousarray(buf.transpose([axes.index(a) for a in range(len(shape))]))

    # A convolution's output from its matmul's (O, L, N) to (N, O, L), the bias added:
    # compiled (_jit_conv.py) for float32/float64 where numba runs; otherwise NumPy, into a
    # C-contiguous result.
    def _batch_to_front(self, x, bias):
        if _jit.enabled():
            out = _jit_conv.batch_to_front(x, bias)
            if out is not None:
                return out
        out = np.empty((x.shape[2], x.shape[0], x.shape[1]), x.dtype)
        y = x.transpose(2, 0, 1)
        if bias is None:
            out[...] = y
        else:
            np.add(y, bias[:, None], out=out)
        return out

    # Its inverse, (N, A, M) to (A, M, N): NumPy's copy, reading down the batch. Where the
    # samples lie a multiple of 4 KiB apart, the samples' rows read together share the L1
    # cache's sets, and that copy ran 2.5x slower (the MNIST example's output gradient
    # (64, 64, 24 * 24): 3.7 ms): there the samples are first copied a few floats further
    # apart (a copy at full speed), then moved (1.4 ms for both). A compiled loop was no
    # faster than NumPy's copy elsewhere.
    def _batch_to_back(self, x):
        n, a, m = x.shape
        out = np.empty((a, m, n), x.dtype)
        if x.flags.c_contiguous and n > 1 and x.size and x.strides[0] % 4096 == 0:
            moved = np.empty((n, a * m + _SPREAD), x.dtype)[:, :a * m].reshape(n, a, m)
            moved[...] = x              # (a view of the wider rows: no copy in the reshape)
            x = moved
        out[...] = x.transpose(1, 2, 0)
        return out

    def _windows_add_product(self, shape, a, b, kernel, stride, dilation):
        # compiled (_jit_gemm.py): the product's blocks added straight into the image, laid
        # out (C, H * W, N), then the batch moved to the front; else product, then col2im
        if _jit.enabled():
            out = _jit_gemm.windows_add_product(shape, a, b, kernel, stride, dilation,
                                                threads=None)
            if out is not None:
                return self._batch_to_front(out, None).reshape(shape)
        cols = _fallbacks.window_cols(self.ns, self.ns.matmul(a, b), shape, kernel, stride,
                                      dilation)
        return self._windows_add(shape, cols, kernel, stride, dilation)

    def _windows_product(self, a, x, kernel, stride, dilation):
        # compiled (_jit_gemm.py): the windows read in place from x laid out batch-innermost;
        # else the windows' matrix copied (from the strided view), then the product
        return self._window_product(_jit_gemm.windows_product, a, x, kernel, stride, dilation,
                                    False)

    def _product_windows(self, a, x, kernel, stride, dilation):
        return self._window_product(_jit_gemm.product_windows, a, x, kernel, stride, dilation,
                                    True)

    def _window_product(self, compiled, a, x, kernel, stride, dilation, transposed):
        """``compiled(...)`` where it takes the product, else ``a`` times the windows'
        matrix (``transposed``: its transpose), copied from the strided view."""
        if _jit.enabled():
            out = compiled(a, x, kernel, stride, dilation, threads=None)
            if out is not None:
                return out
        w = _fallbacks.window_matrix(self.ns, self._windows(x, kernel, stride, dilation),
                                     len(kernel))
        return self.ns.matmul(a, w.T if transposed else w)

    # Max pooling (issue 29): one compiled pass each way (_jit_pool.py) for float32/float64
    # windows of 1 to 3 dims where numba runs; otherwise the standard-only reference.
    def _window_argmax(self, x, kernel, stride, dilation, padding, out):
        if _jit.enabled():
            res = _jit_pool.window_argmax(x, kernel, stride, dilation, padding, out)
            if res is not None:
                return res
        return self._fallback_window_argmax(x, kernel, stride, dilation, padding, out)

    def _window_argmax_add(self, shape, g, offsets, kernel, stride, dilation, padding):
        if _jit.enabled():
            res = _jit_pool.window_argmax_add(shape, g, offsets, kernel, stride, dilation,
                                              padding)
            if res is not None:
                return res
        # (the reference, with this backend's own windows_add)
        return _fallbacks.window_argmax_add(self.xp, shape, g, offsets, kernel, stride, dilation,
                                            padding, add=self._windows_add)

    # The activations: float32 arrays of JIT_FROM elements or more run the compiled kernels
    # of _jit_act.py where the compiled path is on (numba installed, not turned off); every
    # other call runs the standard-only reference on NumPy (_fallbacks.py). Cross entropy's
    # float32 logits run compiled whatever their size (one call instead of about 15).
    def _activation_kernels(self):
        xp = self.xp

        def compiled(kernel, *arrays):
            arrays = [np.ascontiguousarray(a) for a in arrays]
            out = self.empty(arrays[0].shape, np.float32)
            kernel(*arrays, out)
            return out

        ref_sigmoid, ref_sigmoid_backward = _fallbacks.sigmoid, _fallbacks.sigmoid_backward

        halves, ones = {}, {}       # dtype -> 0-d array (Backend.scalar), looked up once

        def sigmoid(x):         # (the per-op hot path of small tensors: the tests inline)
            if x.dtype.kind == "f" and x.ndim:
                if x.dtype == np.float32 and _jit.enabled():
                    if x.size >= JIT_FROM:
                        return compiled(_jit_act.sigmoid, x)
                    out = np.empty(x.shape, np.float32)     # (small: one call, ~4x cheaper
                    _jit_act.sigmoid(x, out)                # than NumPy's four passes)
                    return out
                # the reference's ops, with a 0-d half and one fresh array
                half = halves.get(x.dtype)
                if half is None:
                    half = halves[x.dtype] = self.scalar(0.5, x.dtype)
                t = np.multiply(x, half)
                np.tanh(t, out=t)
                t *= half
                t += half
                return t
            return ref_sigmoid(xp, x)

        def sigmoid_backward(g, y):
            if y.dtype.kind == "f" and y.ndim:
                if y.dtype == np.float32 and _jit.enabled():
                    if y.size >= JIT_FROM:
                        return compiled(_jit_act.sigmoid_backward, g, y)
                    out = np.empty(y.shape, np.float32)
                    _jit_act.sigmoid_backward(g, y, out)
                    return out
                one = ones.get(y.dtype)
                if one is None:
                    one = ones[y.dtype] = self.scalar(1.0, y.dtype)
                d = np.subtract(one, y)     # (the reference's ops, with a 0-d one)
                d *= y
                d *= g
                return d
            return ref_sigmoid_backward(xp, g, y)

        # relu: float32 of any size compiled (one call costs less than NumPy's select even on
        # 16 elements: 2.0 -> 0.95 us), but 0-d, which may come as NumPy scalars
        def relu(x):
            if x.dtype == np.float32 and x.ndim and _jit.enabled():
                if x.size >= JIT_FROM:
                    return compiled(_jit_act.relu, x)
                out = np.empty(x.shape, np.float32)
                _jit_act.relu(x, out)
                return out
            return where(x < 0, 0, x)       # (this module's select: one comparison, bitwise)

        def relu_backward(g, y):
            if y.dtype == np.float32 and y.ndim and _jit.enabled():
                if y.size >= JIT_FROM:
                    return compiled(_jit_act.relu_backward, g, y)
                out = np.empty(y.shape, np.float32)
                _jit_act.relu_backward(g, y, out)
                return out
            return where(y <= 0, 0, g)

        def silu(x):
            if _jit_ok(x):
                return compiled(_jit_act.silu, x)
            return _fallbacks.silu(xp, x)

        def silu_backward(g, x):
            if _jit_ok(x):
                return compiled(_jit_act.silu_backward, g, x)
            return _fallbacks.silu_backward(xp, g, x)

        def gelu(x, approximate):
            if _jit_ok(x):
                return compiled(_jit_act.gelu_tanh if approximate == "tanh" else _jit_act.gelu,
                                x)
            return _fallbacks.gelu(xp, x, approximate)

        def gelu_backward(g, x, approximate):
            if _jit_ok(x):
                return compiled(_jit_act.gelu_tanh_backward if approximate == "tanh"
                                else _jit_act.gelu_backward, g, x)
            return _fallbacks.gelu_backward(xp, g, x, approximate)

        def class_cross_entropy(x, target, ignore_index, reduction):
            if x.dtype != np.float32 or not _jit.enabled():
                return _fallbacks.class_cross_entropy(xp, x, target, ignore_index, reduction)
            loss = np.empty(x.shape[0], np.float32)
            kept = _jit_act.class_cross_entropy(np.ascontiguousarray(x), x.max(axis=1),
                                                np.ascontiguousarray(target), ignore_index, loss)
            if reduction == "none":
                return loss
            total = loss.sum()
            if reduction == "mean":
                total = total / np.float32(kept) if kept else np.float32("nan")
            return np.asarray(total, dtype=np.float32)

        def class_cross_entropy_backward(g, x, target, ignore_index, reduction):
            if x.dtype != np.float32 or not _jit.enabled():
                return _fallbacks.class_cross_entropy_backward(xp, g, x, target, ignore_index,
                                                               reduction)
            out = self.empty(x.shape, np.float32)
            mode = {"none": 0, "sum": 1, "mean": 2}[reduction]
            _jit_act.class_cross_entropy_backward(np.ascontiguousarray(g).reshape(-1),
                                                  np.ascontiguousarray(x), x.max(axis=1),
                                                  np.ascontiguousarray(target), ignore_index,
                                                  mode, out)
            return out

        return {"relu": relu, "relu_backward": relu_backward,
                "sigmoid": sigmoid, "sigmoid_backward": sigmoid_backward, "silu": silu,
                "silu_backward": silu_backward, "gelu": gelu, "gelu_backward": gelu_backward,
                "class_cross_entropy": class_cross_entropy,
                "class_cross_entropy_backward": class_cross_entropy_backward}

    def ascontiguous(self, array):
        return np.ascontiguousarray(array)

    def make_rng(self, seed):
        return NumpyRNG(seed)

    def writable(self, array):
        # NumPy gives 0-d results as immutable scalars (np.float32); writes need an array.
        return array if array.__class__ is np.ndarray else np.asarray(array)


class NumpyRNG:
    """PCG64 on the host; arrays come out directly in the requested dtype."""

    def __init__(self, seed):
        self.gen = np.random.Generator(np.random.PCG64(seed))

    # np.asarray: 0-d draws come back from NumPy as scalars; tensors hold arrays.
    def random(self, shape, dtype):
        return _into_aligned(np.asarray(self.gen.random(shape, dtype="float64")
                                        .astype(dtype.name, copy=False)))

    def normal(self, shape, dtype, mean=0.0, std=1.0):
        return _into_aligned(np.asarray((self.gen.standard_normal(shape, dtype="float64") * std
                                         + mean).astype(dtype.name, copy=False)))

    def integers(self, low, high, shape, dtype):
        return _into_aligned(np.asarray(self.gen.integers(low, high, size=shape, dtype="int64")
                                        .astype(dtype.name, copy=False)))

    def permutation(self, n, dtype):
        return self.gen.permutation(n).astype(dtype.name)

    def get_state(self):
        return self.gen.bit_generator.state

    def set_state(self, state):
        self.gen.bit_generator.state = state


_F32 = (np.dtype(np.float32),)
_F32_F64 = (np.dtype(np.float32), np.dtype(np.float64))


def _rows(x, dim, dtypes):
    """Whether a compiled row kernel takes ``x`` and ``dim``: the compiled path is on, the
    axis is the last one, rows are not empty and the dtype is one of ``dtypes``."""
    return (x.ndim > 0 and dim == (x.ndim - 1,) and x.dtype in dtypes and x.shape[-1] > 0
            and _jit.enabled())


def _as_rows(x):
    """``x`` as a C-contiguous (R, n) array, n its last dim (a copy where it is not
    contiguous: a broadcast gradient, a transposed input)."""
    return np.ascontiguousarray(x).reshape(-1, x.shape[-1])


def _compiled_rows(x, wshape):
    """Whether the compiled normalization takes x (R, P, Q) with a weight of ``wshape``:
    float32 or float64, a weight per channel (G, P, 1) or one per entry of every row
    (1, P, Q), and the compiled path on."""
    return (x.dtype in _F32_F64 and (wshape[2] == 1 or wshape[0] == 1) and _jit.enabled())


def _affine(a, shape, dtype, fill):
    """A normalization's weight or bias as a C-contiguous array of ``shape``: ``fill``
    everywhere where it is None."""
    return np.full(shape, fill, dtype) if a is None else np.ascontiguousarray(a)


# Elements from which a float32 activation runs compiled: below, NumPy's few passes cost
# microseconds, and a process that never has a larger one never loads numba.
JIT_FROM = 1 << 12


def _jit_ok(x):
    """Whether the activation kernels' compiled path takes array ``x``."""
    return x.dtype == np.float32 and x.size >= JIT_FROM and _jit.enabled()


def make_numpy_backend():
    return NumpyBackend()


def _injective(count, kernel, stride, dilation):
    """Whether windows along one dim (``count`` of them) read each position at most once:
    no offset difference t in [1, kernel) moves by a whole number of strides that another
    window starts at."""
    return all((t * dilation) % stride or t * dilation // stride >= count
               for t in range(1, kernel))
