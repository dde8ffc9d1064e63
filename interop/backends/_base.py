"""The :class:`Backend` base: one Array API namespace on one device, its kernels and RNG.

A :class:`Backend` is one Array API namespace on one device. It owns

* ``xp``: the standard namespace (NumPy and CuPy through array-api-compat),
* ``ns``: ``xp``'s public names plus the backend's named kernels; backward
  formulas are written against this object (see ``interop.autograd``),
* its device, its dtype tables, a random-number source (the standard has none),
* a short table of named kernels: a pure-standard fallback here, overridden by
  a native fast path in the backend modules where the library has one.
"""

import math
import types
import warnings

import numpy as np

from .. import dtypes as _dt
from .._device import device as _device_cls
from ._format import format_array

__all__ = ["Backend", "BackendUnavailable", "HostRNG", "REQUIRED_FUNCTIONS"]


class BackendUnavailable(RuntimeError):
    """A backend exists by name but its library or hardware is missing here."""


# Names every standard namespace must provide for interop's core to run on it.
REQUIRED_FUNCTIONS = (
    "asarray", "zeros", "ones", "full", "empty", "arange", "linspace", "eye",
    "reshape", "permute_dims", "broadcast_to", "expand_dims", "squeeze", "concat",
    "stack", "where", "sum", "max", "min", "prod", "mean", "exp", "log", "tanh",
    "sqrt", "matmul", "astype", "take_along_axis", "equal", "abs", "sign",
    "tensordot", "cumulative_sum", "argmax", "argmin", "sort", "argsort",
)


class Backend:
    """One array namespace on one device, with its kernels and RNG.

    Subclasses override kernels with native fast paths; every kernel here is
    written against the standard only, so a bare ``Backend(name, xp)`` works for
    any conforming namespace (that is how user namespaces are registered).

    Kernel side effects: none. Every kernel returns a new array and leaves its
    inputs unchanged, on every backend.
    """

    library = "generic"

    def __init__(self, name, xp, *, device=None, native_device=None, library=None):
        self.name = name
        self.xp = xp
        if library is not None:
            self.library = library
        self.device = _device_cls(device) if device is not None else _device_cls("cpu")
        self.device._backend = self
        self.native_device = native_device
        # Keyword arguments that put a new array on this backend's device (for creation
        # functions of ``xp``: ``xp.zeros(shape, dtype=..., **be.device_kwargs)``).
        self.device_kwargs = {} if native_device is None else {"device": native_device}
        self._build_dtype_tables()
        self.ns = self._build_kernel_namespace()
        self.mutable = self._probe_mutable()
        self.default_float = _dt.float32
        self.default_int = _dt.int64 if _dt.int64 in self.to_native else _dt.int32

    # ------------------------------------------------------------------ dtypes
    def _build_dtype_tables(self):
        xp = self.xp
        self.to_native = {}
        self.from_native = {}
        for d in _dt.ALL_DTYPES:
            nd = getattr(xp, d.name, None)
            if nd is None:
                continue
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    probe = xp.empty((0,), dtype=nd, **self.device_kwargs)
            except Exception:  # a dtype the namespace names but cannot allocate
                continue
            if str(probe.dtype).rsplit(".", 1)[-1] != d.name:
                continue   # silently narrowed (JAX without x64 gives float32 for float64)
            self.to_native[d] = nd
            self.from_native[nd] = d
            self.from_native[probe.dtype] = d
        self._native_sets()

    def _native_sets(self):
        self.complex_natives = frozenset(k for k, v in self.from_native.items() if v.is_complex)
        self.inexact_natives = frozenset(k for k, v in self.from_native.items()
                                         if v.is_complex or v.is_floating_point)

    def _probe_mutable(self):
        """Whether arrays accept item assignment (JAX's do not: in-place ops rebind there)."""
        try:
            a = self.xp.zeros((1,), **self.device_kwargs)
            a[...] = 1
            return True
        except Exception:
            return False

    def dtype_of(self, array):
        """The interop dtype of a native array."""
        try:
            return self.from_native[array.dtype]
        except KeyError:
            raise TypeError(f"backend {self.name!r}: array dtype {array.dtype!r} has no interop "
                            f"dtype") from None

    def native_dtype(self, dtype):
        """The native dtype for an interop dtype; a clear error if this backend lacks it."""
        try:
            return self.to_native[dtype]
        except KeyError:
            if not isinstance(dtype, _dt.dtype):
                raise TypeError(f"expected an interop dtype (e.g. interop.float32), got "
                                f"{dtype!r}") from None
            raise TypeError(f"dtype {dtype} is not available on backend {self.name!r} "
                            f"(it has {', '.join(d.name for d in self.to_native)})") from None

    # --------------------------------------------------------------- namespace
    KERNELS = ("index_add", "scatter_add", "add_at", "sum_to", "getitem")

    def _build_kernel_namespace(self):
        ns = types.SimpleNamespace()
        for k in dir(self.xp):
            if not k.startswith("_"):
                setattr(ns, k, getattr(self.xp, k))
        for k in self.KERNELS:
            setattr(ns, k, getattr(self, k))
        return ns

    def __repr__(self):
        return f"<interop backend {self.name!r}: {self.library} on {self.device}>"

    # ------------------------------------------------------------------ host I/O
    def to_host(self, array):
        """A NumPy array with the data of ``array`` (a copy where the data is not on the host)."""
        try:
            return np.from_dlpack(array)
        except Exception:
            return np.asarray(array)

    def from_host(self, host_array, dtype=None):
        """A backend array from a NumPy array (copied onto this backend's device)."""
        nd = None if dtype is None else self.native_dtype(dtype)
        return self.xp.asarray(host_array, dtype=nd, **self.device_kwargs)

    def convert(self, obj, dtype=None):
        """An array of this backend from an array of any library (NumPy, CuPy, torch,
        anything with ``__dlpack__`` or ``__array__``); a copy where memory cannot be shared."""
        nd = None if dtype is None else self.native_dtype(dtype)
        try:
            return self.xp.asarray(obj, dtype=nd, **self.device_kwargs)
        except Exception:
            return self.from_host(self.to_host(obj), dtype)

    def writable(self, array):
        """``array`` in a form that accepts item assignment (NumPy turns 0-d results into
        immutable scalars; the NumPy backend converts those)."""
        return array

    # ------------------------------------------------------------------ layout
    def strides(self, array):
        """Element strides of ``array``'s memory layout, or None where the library does not
        expose them (the standard has no notion of layout)."""
        st = getattr(array, "stride", None)
        if callable(st):                     # torch-like: element strides
            try:
                return tuple(st())
            except Exception:
                return None
        st = getattr(array, "strides", None)
        item = getattr(getattr(array, "dtype", None), "itemsize", None)
        if isinstance(st, tuple) and item:   # NumPy-like: byte strides
            return tuple(s // item for s in st)
        return None

    def ascontiguous(self, array):
        """A row-major contiguous copy of ``array`` (a flat copy viewed in the old shape)."""
        xp = self.xp
        return xp.reshape(xp.reshape(array, (-1,), copy=True), tuple(array.shape))

    def format(self, array, **options):
        return format_array(self.to_host(array), **options)

    # ----------------------------------------------------------------- kernels
    def sum_to(self, g, shape):
        """Sum ``g`` over broadcast axes so that its shape becomes ``shape``."""
        xp = self.xp
        shape = tuple(shape)
        if tuple(g.shape) == shape:
            return g
        lead = g.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape)
                                          if n == 1 and g.shape[i + lead] != 1)
        if axes:
            g = xp.sum(g, axis=axes, keepdims=True)
        if lead:
            g = xp.reshape(g, shape)
        return g

    def getitem(self, x, key):
        """``x[key]`` with NumPy's semantics for integer-array and boolean-mask keys.

        The standard specifies integer arrays only beside integers, and a boolean array only
        as the sole index. Other keys (``x[idx, ...]``, ``x[:, mask]``, ``x[:, i, j]``) are
        rewritten into one key of integer arrays alone, broadcast to NumPy's result layout.
        """
        try:
            return x[key]
        except IndexError:
            key = key if isinstance(key, tuple) else (key,)
            if all(_is_basic_index(k) for k in key):
                raise
        return self._getitem_by_arrays(x, key)

    def _getitem_by_arrays(self, x, key):
        xp = self.xp
        kw = self.device_kwargs
        itype = self.to_native[self.default_int]
        # 1. Masks become their nonzero() coordinates (after a shape check); ... becomes slices.
        n_used = 0
        for k in key:
            if k is None or k is Ellipsis:
                continue
            n_used += k.ndim if (hasattr(k, "dtype") and self.from_native.get(k.dtype) is _dt.bool) else 1
        full = []
        dim = 0
        for k in key:
            if k is Ellipsis:
                fill = x.ndim - n_used
                full.extend([slice(None)] * fill)
                dim += fill
            elif k is None:
                full.append(None)
            elif hasattr(k, "dtype") and self.from_native.get(k.dtype) is _dt.bool:
                covered = tuple(x.shape[dim:dim + k.ndim])
                if tuple(k.shape) != covered:
                    raise IndexError(f"boolean index of shape {tuple(k.shape)} does not match the "
                                     f"indexed shape {covered} at dimension {dim}")
                full.extend(xp.nonzero(k))
                dim += k.ndim
            else:
                full.append(k)
                dim += 1
        full.extend([slice(None)] * (x.ndim - dim))
        # 2. Slices and None first (basic indexing keeps a dim for every int/array entry).
        y = x[tuple(slice(None) if (k.__class__ is int or hasattr(k, "dtype")) else k
                    for k in full)]
        adv, other = [], []       # (dim of y, index array) / dims of y kept whole
        for d, k in enumerate(full):
            if k.__class__ is int or hasattr(k, "dtype"):
                n = y.shape[d]
                a = xp.asarray(k, dtype=itype, **kw) if k.__class__ is int else xp.astype(k, itype)
                if math.prod(a.shape) and (bool(xp.any(a >= n)) or bool(xp.any(a < -n))):
                    raise IndexError(f"index out of range for dimension {d} with size {n}")
                adv.append((d, xp.where(a < 0, a + n, a)))
            else:
                other.append(d)
        # 3. NumPy's layout: the indexed dims replace the first indexed position when the
        # indexed positions are adjacent, else they come first.
        bshape = tuple(xp.broadcast_arrays(*[a for _, a in adv])[0].shape)
        pos = [d for d, _ in adv]
        adjacent = pos == list(range(pos[0], pos[0] + len(pos)))
        before = [d for d in other if d < pos[0]] if adjacent else []
        after = [d for d in other if d not in before]
        nb, nr, na = len(before), len(bshape), len(after)
        index = [None] * y.ndim
        for d, a in adv:
            index[d] = xp.reshape(xp.broadcast_to(a, bshape), (1,) * nb + bshape + (1,) * na)
        for i, d in enumerate(before + after):
            shape = [1] * (nb + nr + na)
            shape[i if i < nb else i + nr] = y.shape[d]
            index[d] = xp.reshape(xp.arange(y.shape[d], dtype=itype, **kw), tuple(shape))
        return y[tuple(index)]

    def _flat_add(self, x, lin, values):
        """x with ``values`` (1-D) added at flat positions ``lin`` (1-D), by a one-hot product."""
        xp = self.xp
        n = 1
        for s in x.shape:
            n *= s
        if values.shape[0] == 0 or n == 0:
            return xp.asarray(x, copy=True)
        pos = xp.arange(n, dtype=lin.dtype, **self.device_kwargs)
        onehot = xp.astype(xp.expand_dims(lin, axis=1) == xp.expand_dims(pos, axis=0), values.dtype)
        return x + xp.reshape(xp.matmul(values, onehot), x.shape)

    def add_at(self, x, key, values):
        """``x`` with ``values`` added at ``x[key]``, repeated indices accumulating
        (NumPy's ``np.add.at`` semantics, out of place)."""
        xp = self.xp
        n = 1
        for s in x.shape:
            n *= s
        pos = xp.reshape(xp.arange(n, dtype=self.to_native[self.default_int], **self.device_kwargs), x.shape)
        lin = self.getitem(pos, key)
        values = xp.broadcast_to(values, lin.shape)
        return self._flat_add(x, xp.reshape(lin, (-1,)), xp.reshape(values, (-1,)))

    def index_add(self, x, axis, index, src):
        """``x`` with ``src`` slices added along ``axis`` at the positions in the 1-D ``index``."""
        xp = self.xp
        n = x.shape[axis]
        pos = xp.arange(n, dtype=index.dtype, **self.device_kwargs)
        onehot = xp.astype(xp.expand_dims(index, axis=1) == xp.expand_dims(pos, axis=0), src.dtype)
        contrib = xp.tensordot(onehot, src, axes=([0], [axis]))   # (n, *other dims)
        if axis != 0:
            contrib = xp.moveaxis(contrib, 0, axis)
        return x + contrib

    def _scatter_coords(self, axis, index):
        """Coordinates in the target of every element of ``index`` (torch.scatter layout)."""
        xp = self.xp
        coords = []
        for d in range(index.ndim):
            if d == axis:
                coords.append(index)
                continue
            shape = [1] * index.ndim
            shape[d] = index.shape[d]
            r = xp.reshape(xp.arange(index.shape[d], dtype=index.dtype, **self.device_kwargs), tuple(shape))
            coords.append(xp.broadcast_to(r, index.shape))
        return tuple(coords)

    def scatter_add(self, x, axis, index, src):
        """``torch.scatter_add`` out of place: ``out[..., index[p], ...] += src[p]`` along ``axis``."""
        src = src[tuple(slice(0, n) for n in index.shape)]
        return self.add_at(x, self._scatter_coords(axis, index), src)

    # --------------------------------------------------------------------- RNG
    def make_rng(self, seed):
        """A fresh random source seeded with ``seed``; see :class:`HostRNG`."""
        return HostRNG(self, seed)


def _is_basic_index(k):
    return k is None or k is Ellipsis or k.__class__ in (int, slice)


class HostRNG:
    """Random numbers drawn on the host with NumPy's PCG64 and moved to the backend.

    The standard has no RNG, so this is the fallback any namespace can take;
    backends with a device RNG override ``make_rng``. Same seed, same numbers,
    run after run.
    """

    def __init__(self, backend, seed):
        self.backend = backend
        self.gen = np.random.Generator(np.random.PCG64(seed))

    def _out(self, host, dtype):
        return self.backend.from_host(host, dtype)

    def random(self, shape, dtype):
        return self._out(self.gen.random(shape, dtype="float64").astype(dtype.name), dtype)

    def normal(self, shape, dtype, mean=0.0, std=1.0):
        a = self.gen.standard_normal(shape, dtype="float64")
        return self._out((a * std + mean).astype(dtype.name), dtype)

    def integers(self, low, high, shape, dtype):
        return self._out(self.gen.integers(low, high, size=shape, dtype="int64").astype(dtype.name), dtype)

    def permutation(self, n, dtype):
        return self._out(self.gen.permutation(n).astype(dtype.name), dtype)

    def get_state(self):
        return self.gen.bit_generator.state

    def set_state(self, state):
        self.gen.bit_generator.state = state
