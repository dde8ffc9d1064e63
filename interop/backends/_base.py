"""The :class:`Backend` base: one Array API namespace on one device, its kernels and RNG.

A :class:`Backend` is one Array API namespace on one device. It owns

* ``xp``: the standard namespace (NumPy and CuPy through array-api-compat),
* ``ns``: ``xp``'s public names plus the backend's named kernels; backward
  formulas are written against this object (see ``interop.autograd``),
* its device, its dtype tables, a random-number source (the standard has none),
* the named kernels of the table in ``_kernels.py`` (``Backend.KERNELS``): each checked
  here, then run by a registered implementation, a native fast path of the backend
  module, or the standard-only fallback of ``_fallbacks.py``, in that order of preference.
"""

import math
import operator
import sys
import types
import warnings

import numpy as np

from .. import dtypes as _dt
from .._device import device as _device_cls
from ._dlpack import CapsuleProducer, capsule_info, is_capsule
from ._format import format_array
from . import _fallbacks
from ._kernels import KERNELS, check_kernels, checked_result, windows_shape

__all__ = ["Backend", "BackendUnavailable", "HostRNG", "REQUIRED_FUNCTIONS"]


def _base_refs(a):
    return sys.getrefcount(a.base)


class _Probe:
    __slots__ = ("base",)


_probe = _Probe()
_probe.base = object()
_BASE_SOLE = _base_refs(_probe)     # what _base_refs reports for a base only its view holds
del _probe


class BackendUnavailable(RuntimeError):
    """A backend exists by name but its library or hardware is missing here."""


# Names every standard namespace must provide for interop's core to run on it.
REQUIRED_FUNCTIONS = (
    "asarray", "zeros", "ones", "full", "empty", "arange", "linspace", "eye",
    "reshape", "permute_dims", "broadcast_to", "expand_dims", "squeeze", "concat",
    "stack", "where", "sum", "max", "min", "prod", "mean", "exp", "log", "tanh",
    "sqrt", "matmul", "astype", "take_along_axis", "equal", "abs", "sign",
    "tensordot", "cumulative_sum", "argmax", "argmin", "sort", "argsort",
    "take", "searchsorted", "any", "logical_or", "zeros_like",   # (the kernel fallbacks)
)


class Backend:
    """One array namespace on one device, with its kernels and RNG.

    Subclasses add native fast paths (``native_kernels``); every fallback
    (``_fallbacks.py``) is written against the standard only, so a bare ``Backend(name, xp)`` works for
    any conforming namespace (that is how user namespaces are registered), and
    ``kernels={name: callable}`` brings a namespace's own implementations.

    Kernel side effects: none. Every kernel returns a new array and leaves its
    inputs unchanged, on every backend (``sum_to`` returns ``x`` itself when there
    is nothing to sum). ``KERNELS`` is the table: signature and semantics of each.
    """

    library = "generic"

    def __init__(self, name, xp, *, device=None, native_device=None, library=None, kernels=None):
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
        self._install_kernels(kernels)
        self.ns = self._build_kernel_namespace()
        self.mutable = self._probe_mutable()
        self.negative_steps = self._probe_negative_steps()
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
                    (xp.logical_or if d is _dt.bool else xp.add)(probe, probe)
            except Exception:  # a dtype the namespace names but cannot allocate or add
                continue       # (PyTorch's uint16/32/64 are storage-only: no arithmetic)
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
        self.float_natives = frozenset(k for k, v in self.from_native.items()
                                       if v.is_floating_point)

    def scalar(self, value, native):
        """``value`` (a Python float or int that ``native``, a real floating dtype of this
        backend, holds) as a 0-d array of that dtype, for a library where an op between an
        array and such a 0-d array gives exactly what it gives with the Python scalar and
        costs less (NumPy: see its backend); None where that does not hold or is not known
        (PyTorch computes ``half_tensor * 0.1`` with the scalar in float32, not rounded to
        half first): the caller keeps the Python scalar."""
        return None

    def _probe_mutable(self):
        """Whether arrays accept item assignment (JAX's do not: in-place ops rebind there)."""
        try:
            a = self.xp.zeros((1,), **self.device_kwargs)
            a[...] = 1
            return True
        except Exception:
            return False

    def _probe_negative_steps(self):
        """Whether basic indexing takes negative slice steps (torch's namespace does not)."""
        try:
            self.xp.zeros((2,), **self.device_kwargs)[::-1]
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
    KERNELS = KERNELS    # name -> Kernel(signature, semantics, twin); see _kernels.py

    def _build_kernel_namespace(self):
        ns = types.SimpleNamespace()
        for k in dir(self.xp):
            if not k.startswith("_"):
                setattr(ns, k, getattr(self.xp, k))
        for ext in ("linalg", "fft"):     # extensions some namespaces resolve only on access
            if not hasattr(ns, ext):
                mod = getattr(self.xp, ext, None)
                if mod is not None:
                    setattr(ns, ext, mod)
        for k in self.KERNELS:
            setattr(ns, k, getattr(self, k))
        return ns

    def __repr__(self):
        return f"<interop backend {self.name!r}: {self.library} on {self.device}>"

    # ------------------------------------------------------------------ host I/O
    def to_host(self, array):
        """A NumPy array with the data of ``array`` (a copy where the data is not on the host).
        Dtypes NumPy lacks (bfloat16) arrive as float32."""
        if self.from_native.get(array.dtype) is _dt.bfloat16:
            array = self.xp.astype(array, self.to_native[_dt.float32])
        try:
            return np.from_dlpack(array)
        except Exception:
            return np.asarray(array)

    def from_host(self, host_array, dtype=None):
        """A backend array from a NumPy array (copied onto this backend's device)."""
        nd = None if dtype is None else self.native_dtype(dtype)
        return self.xp.asarray(host_array, dtype=nd, **self.device_kwargs)

    def convert(self, obj, dtype=None, copy=None):
        """An array of this backend from an array of any library (NumPy, CuPy, torch,
        anything with ``__dlpack__`` or ``__array__``). ``copy`` as the standard's
        ``asarray``: True always copies, None where memory cannot be shared, False never
        (the namespace's error then)."""
        nd = None if dtype is None else self.native_dtype(dtype)
        kw = self.device_kwargs if copy is None else dict(self.device_kwargs, copy=copy)
        try:
            return self.xp.asarray(obj, dtype=nd, **kw)
        except Exception:
            if copy is False:
                raise
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

    def row_major(self, array):
        """True when ``array``'s elements lie densely in row-major (C) order, False when they
        do not, None where the library does not expose its layout."""
        strides = self.strides(array)
        if strides is None:
            return None
        expected = 1
        for n, s in zip(reversed(array.shape), reversed(strides)):
            if n == 0:
                return True
            if n != 1 and s != expected:
                return False
            expected *= n
        return True

    def adoptable(self, g, like):
        """Whether gradient array ``g``, which nothing but its caller holds, may become the
        ``.grad`` of a leaf whose data is ``like`` as it is (no copy): an array of ``like``'s
        own type (not a NumPy scalar, not another library's array) whose memory is its own
        (``base`` None), or a view of all of an array that nothing but ``g`` holds (a
        reduction's result reshaped); not a broadcast of ones, not memory lent by another
        library or buffer; writable and row-major, as a copy would be. Arrays whose library
        does not say (no ``base``, no strides) are not (they are copied)."""
        if g.__class__ is not like.__class__ or not hasattr(g, "base"):
            return False
        if g.base is not None and (
                _base_refs(g) > _BASE_SOLE          # (first: before anything here holds the base)
                or g.base.__class__ is not g.__class__ or g.base.base is not None
                or g.base.size != g.size):
            return False
        return (getattr(getattr(g, "flags", None), "writeable", True)
                and self.row_major(g) is True)

    def ascontiguous(self, array):
        """A row-major contiguous copy of ``array`` (a flat copy viewed in the old shape)."""
        xp = self.xp
        return xp.reshape(xp.reshape(array, (-1,), copy=True), tuple(array.shape))

    def format(self, array, **options):
        return format_array(self.to_host(array), **options)

    # ------------------------------------------------------------------ allocation
    def empty(self, shape, dtype):
        """A new uninitialized array of native ``dtype`` (creation functions allocate here,
        so a backend can choose the alignment: see the NumPy backend)."""
        return self.xp.empty(shape, dtype=dtype, **self.device_kwargs)

    def full(self, shape, fill_value, dtype):
        """A new array of native ``dtype`` filled with ``fill_value``."""
        return self.xp.full(shape, fill_value, dtype=dtype, **self.device_kwargs)

    # ------------------------------------------------------------------ sharing
    def share_memory(self, array):
        """``array``'s values in memory shared with other processes (forked or spawned):
        only backends over host memory that can map it can; the others refuse."""
        raise RuntimeError(
            f"share_memory_: the {self.name!r} backend ({self.library}) cannot place tensors "
            f"in memory shared between processes; only the 'cpu' backend can (move the "
            f"tensor there with .cpu() first)")

    def is_shared(self, array):
        """True where ``array`` lies in memory shared between processes."""
        return False

    def rebase_shared(self, view, old, new):
        """``view`` of array ``old`` re-made over ``new`` (``old``'s data moved to shared
        memory), or None where it cannot be."""
        return None

    def shared_handle(self, array):
        """What another process needs to map shared ``array`` (picklable)."""
        raise RuntimeError(f"the {self.name!r} backend ({self.library}) cannot pass tensors "
                           f"to other processes through shared memory; only 'cpu' can")

    def attach_shared(self, handle):
        """The shared array of ``handle`` (from :meth:`shared_handle`), mapped here."""
        raise RuntimeError(f"the {self.name!r} backend ({self.library}) cannot map shared "
                           f"memory")

    # ------------------------------------------------------------------ DLPack
    def read_only(self, array):
        """True where ``array``'s memory must not be written (a read-only import); a
        namespace that does not say is taken as writable."""
        return False

    def dlpack_device(self, array):
        """``array.__dlpack_device__()`` as plain ints ``(device type code, index)``."""
        kind, index = array.__dlpack_device__()
        return int(kind), int(index)

    def to_dlpack(self, array, *, stream=None, max_version=None, dl_device=None, copy=None):
        """A DLPack capsule of ``array`` with the standard's keywords (legacy or versioned
        as the producer decides from ``max_version``). A layout with negative strides, which
        some consumers cannot take (torch aborts the process on one), goes out as a compact
        copy where ``copy`` allows it, else as a BufferError."""
        st = self.strides(array)
        if st is not None and any(s < 0 for s in st):
            if copy is False:
                raise BufferError(f"DLPack export with copy=False: this tensor's memory layout has "
                                  f"negative strides {st}, which consumers such as torch cannot "
                                  f"take; export with copy=None or copy=True for a compact copy")
            array, copy = self.ascontiguous(array), None     # already a fresh copy
        kw = {}
        if stream is not None:
            kw["stream"] = stream
        if max_version is not None:
            kw["max_version"] = max_version
        if dl_device is not None:
            kw["dl_device"] = dl_device
        if copy is not None:
            kw["copy"] = copy
        return array.__dlpack__(**kw)

    def from_dlpack(self, obj, copy=None):
        """``(array, read_only)``: an array of this backend importing ``obj`` (anything with
        ``__dlpack__`` on this backend's device; a raw capsule is wrapped first). A view of
        the producer's memory unless ``copy`` is True; ``copy=False`` raises where a view is
        impossible. A backend whose namespace cannot view negative strides (torch's aborts
        on them) gets such data as a compact copy, or a BufferError under ``copy=False``."""
        if is_capsule(obj):
            obj = CapsuleProducer(obj)
        read_only = False
        if not self.negative_steps:
            capsule = _take_capsule(obj)
            info = capsule_info(capsule)
            read_only = info.read_only
            obj = CapsuleProducer(capsule, info)
            if info.negative_strides:
                if copy is False:
                    raise BufferError(f"from_dlpack with copy=False: the data has negative strides "
                                      f"{info.strides}, which backend {self.name!r} cannot view")
                return self.from_host(np.ascontiguousarray(np.from_dlpack(obj))), False
            if copy:
                return self.xp.asarray(self.xp.from_dlpack(obj), copy=True), False
            return self.xp.from_dlpack(obj), read_only
        try:
            array = self.xp.from_dlpack(obj, copy=copy)
        except TypeError:      # a namespace from before the standard's copy keyword
            if copy is False:
                raise
            array = self.xp.from_dlpack(obj)
            if copy:
                array = self.xp.asarray(array, copy=True)
        except BufferError as e:
            # A read-only producer (NumPy) cannot say so in the unversioned capsule that some
            # importers (JAX's) ask for, and refuses; on the CPU, where a copy is allowed,
            # import a copy instead (through NumPy, which asks for a versioned capsule).
            if copy is False or self.device.type != "cpu" or "readonly" not in str(e).lower():
                raise
            return self.from_host(np.array(np.from_dlpack(obj))), False
        return array, self.read_only(array)

    # ----------------------------------------------------------------- kernels
    #
    # The public kernel methods (also in ``ns``) check and normalize their arguments, then
    # call this backend's implementation: a registered one, else a native fast path
    # (``native_kernels``), else the standard-only ``_fallback_<name>`` below (a function of
    # ``_fallbacks.py`` on this backend's namespace and device). The table,
    # with each kernel's semantics, is ``KERNELS`` (interop/backends/_kernels.py).

    def native_kernels(self):
        """Native fast paths of this backend: kernel name -> callable taking the arguments of
        the table's signature, already checked (see ``_kernels.IMPLEMENTATION_ARGUMENTS``).
        A bare Backend has none; backend modules override this."""
        return {}

    def _install_kernels(self, kernels):
        registered = check_kernels(kernels, f"backend {self.name!r}")
        native = self.native_kernels()
        self._kernels = {}
        self.kernel_paths = {}     # name -> "registered" | "native" | "fallback"
        for k in KERNELS:
            if k in registered:
                self._kernels[k] = checked_result(k, registered[k], self.name)
                self.kernel_paths[k] = "registered"
            elif k in native:
                self._kernels[k] = native[k]
                self.kernel_paths[k] = "native"
            else:
                self._kernels[k] = getattr(self, "_fallback_" + k)
                self.kernel_paths[k] = "fallback"

    def kernel_and_fallback(self, name):
        """(the installed implementation of kernel ``name``, its standard-only fallback): both
        take the table's arguments already checked. The conformance suite runs both on the
        same inputs; they must agree."""
        if name not in KERNELS:
            raise KeyError(f"unknown kernel {name!r}; the table has {', '.join(KERNELS)}")
        return self._kernels[name], getattr(self, "_fallback_" + name)

    def getitem(self, x, key):
        """``x[key]`` with NumPy's semantics for integer-array and boolean-mask keys
        (kernel table: ``KERNELS["getitem"]``)."""
        return self._kernels["getitem"](x, key if isinstance(key, tuple) else (key,))

    def add_at(self, x, key, values):
        """``x`` with ``values`` added at ``x[key]``, repeated positions accumulating
        (``np.add.at`` out of place; kernel table: ``KERNELS["add_at"]``)."""
        key = key if isinstance(key, tuple) else (key,)
        values = self._values_like(x, values, "add_at", "values", scalars=True)
        return self._kernels["add_at"](x, key, values)

    def index_add(self, x, dim, index, source):
        """``x`` with ``source`` slices added along ``dim`` at the positions in the 1-D ``index``
        (``torch.index_add`` out of place; kernel table: ``KERNELS["index_add"]``)."""
        op = "index_add"
        source = self._values_like(x, source, op, "source")
        if x.ndim == 0:                      # one slot: as a 1-element vector
            _axis(dim, 0, op)
            xp = self.xp
            s1 = xp.reshape(source, (1,)) if source.ndim == 0 else source
            return xp.reshape(self.index_add(xp.reshape(x, (1,)), 0, index, s1), ())
        dim = _axis(dim, x.ndim, op)
        index = self._index(index, x.shape[dim], op)
        want = tuple(x.shape[:dim]) + (math.prod(index.shape),) + tuple(x.shape[dim + 1:])
        if index.ndim != 1 or tuple(source.shape) != want:
            raise ValueError(f"{op}: expected a 1-d index and source of shape {want} (x's shape "
                             f"{tuple(x.shape)} with one slice per index entry along dim {dim}); "
                             f"got index shape {tuple(index.shape)} and source shape "
                             f"{tuple(source.shape)}")
        return self._kernels[op](x, dim, index, source)

    def scatter_add(self, x, dim, index, src):
        """``torch.scatter_add`` out of place: ``out[..., index[p], ...] += src[p]`` along ``dim``
        (kernel table: ``KERNELS["scatter_add"]``)."""
        op = "scatter_add"
        src = self._values_like(x, src, op, "src")
        if x.ndim == 0:                      # one slot: as 1-element vectors
            _axis(dim, 0, op)
            xp = self.xp
            if index.ndim or src.ndim:
                raise ValueError(f"{op}: a 0-d x takes a 0-d index and src; got index shape "
                                 f"{tuple(index.shape)} and src shape {tuple(src.shape)}")
            one = (1,)
            return xp.reshape(self.scatter_add(xp.reshape(x, one), 0, xp.reshape(index, one),
                                               xp.reshape(src, one)), ())
        dim = _axis(dim, x.ndim, op)
        ishape, sshape, xshape = tuple(index.shape), tuple(src.shape), tuple(x.shape)
        if (len(ishape) != len(xshape) or len(sshape) != len(xshape)
                or any(i > s for i, s in zip(ishape, sshape))
                or any(i > n for d, (i, n) in enumerate(zip(ishape, xshape)) if d != dim)):
            raise ValueError(f"{op}: index, src and x must have the same number of dims, with "
                             f"index no larger than src in any dim and no larger than x outside "
                             f"dim {dim}; got index shape {ishape}, src shape {sshape}, x shape "
                             f"{xshape}")
        index = self._index(index, xshape[dim], op)
        if sshape != ishape:
            src = src[tuple(slice(0, n) for n in ishape)]
        return self._kernels[op](x, dim, index, src)

    def sum_to(self, x, shape):
        """``x`` summed over broadcast axes down to ``shape``; ``x`` itself when it already has
        that shape (kernel table: ``KERNELS["sum_to"]``). (Its implementations check the
        shapes themselves, with ``_kernels.sum_to_axes``: this one is on every broadcast's backward.)"""
        shape = tuple(shape)
        if tuple(x.shape) == shape:
            return x
        return self._kernels["sum_to"](x, shape)

    def windows(self, x, kernel, stride, dilation):
        """The sliding windows of ``x`` over its last ``len(kernel)`` dims, shaped
        ``x.shape[:-n] + kernel + out`` (im2col before the copy; may be a view of ``x``:
        never write into it; kernel table: ``KERNELS["windows"]``)."""
        kernel, stride, dilation = _window_args(x.ndim, kernel, stride, dilation, "windows")
        return self._kernels["windows"](x, kernel, stride, dilation)

    def windows_add(self, shape, cols, kernel, stride, dilation):
        """The adjoint of ``windows``: zeros of ``shape`` with every entry of ``cols`` added
        where ``windows`` reads it from (col2im; kernel table: ``KERNELS["windows_add"]``)."""
        shape = _shape_arg(shape, "windows_add")
        kernel, stride, dilation = _window_args(len(shape), kernel, stride, dilation,
                                                "windows_add")
        want = windows_shape(shape, kernel, stride, dilation)
        if tuple(cols.shape) != want:
            raise ValueError(f"windows_add: cols must have shape {want} (the windows of an array "
                             f"of shape {shape} with kernel {kernel}, stride {stride} and "
                             f"dilation {dilation}); got shape {tuple(cols.shape)}")
        return self._kernels["windows_add"](shape, cols, kernel, stride, dilation)

    # ---- softmax rows (issue 29)

    def softmax(self, x, dim):
        """softmax of ``x`` over the axes ``dim`` (an int or a tuple of ints; kernel table:
        ``KERNELS["softmax"]``)."""
        return self._kernels["softmax"](x, _softmax_axes(dim, x.ndim, "softmax"))

    def log_softmax(self, x, dim):
        """log_softmax of ``x`` over the axes ``dim`` (kernel table: ``KERNELS["log_softmax"]``)."""
        return self._kernels["log_softmax"](x, _softmax_axes(dim, x.ndim, "log_softmax"))

    def softmax_backward(self, grad, output, dim):
        """softmax's gradient from its ``output`` and the ``grad`` reaching it (kernel table:
        ``KERNELS["softmax_backward"]``)."""
        op = "softmax_backward"
        _same_layout(grad, output, op)
        return self._kernels[op](grad, output, _softmax_axes(dim, output.ndim, op))

    def log_softmax_backward(self, grad, output, dim):
        """log_softmax's gradient from its ``output`` and the ``grad`` reaching it (kernel
        table: ``KERNELS["log_softmax_backward"]``)."""
        op = "log_softmax_backward"
        _same_layout(grad, output, op)
        return self._kernels[op](grad, output, _softmax_axes(dim, output.ndim, op))

    # ---- the normalization of rows (issue 29)

    def normalize_rows(self, x, weight, bias, eps):
        """(y, mean, rstd): each row of the (R, P, Q) array ``x`` normalized over its P * Q
        entries, then scaled and shifted by ``weight`` and ``bias`` (None, or (G, P, Qw);
        kernel table: ``KERNELS["normalize_rows"]``)."""
        _rows_args(x, weight, bias, None, "normalize_rows")
        return self._kernels["normalize_rows"](x, weight, bias, float(eps))

    def normalize_rows_backward(self, grad, x, weight, mean, rstd, wshape):
        """(gx, gw, gb) of ``normalize_rows`` (kernel table:
        ``KERNELS["normalize_rows_backward"]``)."""
        op = "normalize_rows_backward"
        wshape = tuple(int(n) for n in wshape)
        _rows_args(x, weight, None, wshape, op)
        _same_layout(grad, x, op)
        if tuple(mean.shape) != (x.shape[0],) or tuple(rstd.shape) != (x.shape[0],):
            raise ValueError(f"{op}: mean and rstd must have shape ({x.shape[0]},), one entry "
                             f"per row of x; got {tuple(mean.shape)} and {tuple(rstd.shape)}")
        return self._kernels[op](grad, x, weight, mean, rstd, wshape)

    # ---- the normalization of channels (issue 29)

    def normalize_channels(self, x, weight, bias, eps):
        """(y, mean, rstd, ssd): each channel k of the (A, K, L) array ``x`` normalized over A
        and L, then scaled and shifted by ``weight`` and ``bias`` (None, or (K,); kernel table:
        ``KERNELS["normalize_channels"]``)."""
        _channels_args(x, (weight, bias), "normalize_channels")
        return self._kernels["normalize_channels"](x, weight, bias, float(eps))

    def normalize_channels_backward(self, grad, x, weight, mean, rstd):
        """(gx, gw, gb) of ``normalize_channels`` (kernel table:
        ``KERNELS["normalize_channels_backward"]``)."""
        op = "normalize_channels_backward"
        _channels_args(x, (weight, mean, rstd), op)
        _same_layout(grad, x, op)
        return self._kernels[op](grad, x, weight, mean, rstd)

    # ---- the batch dim of a convolution's matrix layout (issue 29)

    def batch_to_front(self, x, bias):
        """``x`` (A, M, N) as (N, A, M), ``bias`` (A,) added where given (kernel table:
        ``KERNELS["batch_to_front"]``)."""
        _batch_args(x, "batch_to_front")
        if bias is not None and (tuple(bias.shape) != (x.shape[0],) or bias.dtype != x.dtype):
            raise ValueError(f"batch_to_front: bias must be None or an ({x.shape[0]},) array of "
                             f"x's dtype {x.dtype}, one entry per row of x; got "
                             f"{tuple(bias.shape)} {bias.dtype}")
        return self._kernels["batch_to_front"](x, bias)

    def batch_to_back(self, x):
        """``x`` (N, A, M) as (A, M, N) (kernel table: ``KERNELS["batch_to_back"]``)."""
        _batch_args(x, "batch_to_back")
        return self._kernels["batch_to_back"](x)

    def windows_product(self, a, x, kernel, stride, dilation):
        """``a @ W``, ``W`` the matrix of ``x``'s windows, batch innermost: a convolution's
        forward without its im2col matrix, where the backend reads the windows in place
        (kernel table: ``KERNELS["windows_product"]``)."""
        args = self._window_matrix_args(a, x, kernel, stride, dilation, "windows_product")
        return self._kernels["windows_product"](a, x, *args)

    def product_windows(self, a, x, kernel, stride, dilation):
        """``a @ W^T``, ``W`` the matrix of ``x``'s windows, batch innermost: a convolution's
        weight gradient without its im2col matrix (kernel table:
        ``KERNELS["product_windows"]``)."""
        args = self._window_matrix_args(a, x, kernel, stride, dilation, "product_windows")
        return self._kernels["product_windows"](a, x, *args)

    def _window_matrix_args(self, a, x, kernel, stride, dilation, op):
        """The window arguments (kernel, stride, dilation) checked and made tuples, with the
        dtypes and ``a``'s shape: (M, C * K) for ``windows_product`` (``a @ W``), (M, L * N)
        for ``product_windows`` (``a @ W^T``), ``W`` the windows' matrix of ``x`` (N, C,
        *size), (C * K, L * N)."""
        if x.ndim < 3:
            raise ValueError(f"{op}: expected x of shape (N, C, *size), got {tuple(x.shape)}")
        kernel, stride, dilation = _window_args(x.ndim - 2, kernel, stride, dilation, op)
        if len(kernel) != x.ndim - 2:
            raise ValueError(f"{op}: expected {x.ndim - 2} kernel dims for x of shape "
                             f"{tuple(x.shape)}, got kernel {kernel}")
        if a.dtype != x.dtype:
            raise ValueError(f"{op}: a and x must have one dtype, got {a.dtype} and {x.dtype}")
        self._real_floating(a, op)
        counts = windows_shape(tuple(x.shape[2:]), kernel, stride, dilation)[len(kernel):]
        want, what = ((x.shape[1] * math.prod(kernel), "C * K") if op == "windows_product"
                      else (math.prod(counts) * x.shape[0], "L * N"))
        if a.ndim != 2 or a.shape[1] != want:
            raise ValueError(f"{op}: expected a of shape (M, {want}) ({what} columns for x "
                             f"{tuple(x.shape)} and kernel {tuple(kernel)}), got "
                             f"{tuple(a.shape)}")
        return kernel, stride, dilation

    def windows_add_product(self, shape, a, b, kernel, stride, dilation):
        """``windows_add`` of ``a @ b`` laid out batch-innermost: a convolution's input
        gradient without its product's matrix, where the backend fuses the two (kernel table:
        ``KERNELS["windows_add_product"]``)."""
        op = "windows_add_product"
        try:
            shape = tuple(operator.index(n) for n in shape)
        except TypeError:
            raise TypeError(f"{op}: shape must be a tuple of ints, got {shape!r}") from None
        if len(shape) < 3 or any(n < 0 for n in shape):
            raise ValueError(f"{op}: shape must be (N, C, *size) with sizes >= 0, got {shape}")
        kernel, stride, dilation = _window_args(len(shape) - 2, kernel, stride, dilation, op)
        if len(kernel) != len(shape) - 2:
            raise ValueError(f"{op}: expected {len(shape) - 2} kernel dims for shape {shape}, "
                             f"got kernel {kernel}")
        counts = windows_shape(shape[2:], kernel, stride, dilation)[len(kernel):]
        rows = shape[1] * math.prod(kernel)
        cols = math.prod(counts) * shape[0]
        if (a.ndim != 2 or b.ndim != 2 or a.shape[0] != rows or b.shape[1] != cols
                or a.shape[1] != b.shape[0] or a.dtype != b.dtype):
            raise ValueError(f"{op}: expected a ({rows}, P) and b (P, {cols}) of one dtype "
                             f"(C * K rows and L * N columns for shape {shape}, kernel {kernel}, "
                             f"stride {stride}, dilation {dilation}); got a {tuple(a.shape)} "
                             f"{a.dtype} and b {tuple(b.shape)} {b.dtype}")
        self._real_floating(a, op)
        return self._kernels["windows_add_product"](shape, a, b, kernel, stride, dilation)

    # ---- max pooling's windows (issue 29)

    def window_argmax(self, x, kernel, stride, dilation, padding, out):
        """(the maximum of every window of ``x``, the kernel offset of the element that gets
        its gradient): max pooling's forward, padding taking no part (kernel table:
        ``KERNELS["window_argmax"]``)."""
        op = "window_argmax"
        kernel, stride, dilation = _window_args(x.ndim, kernel, stride, dilation, op)
        padding = _counts(padding, len(kernel), "padding", op)
        out = _counts(out, len(kernel), "out", op)
        self._real_floating(x, op)
        return self._kernels[op](x, kernel, stride, dilation, padding, out)

    def window_argmax_add(self, shape, g, offsets, kernel, stride, dilation, padding):
        """Zeros of ``shape`` with ``g`` added at the elements ``offsets`` names in its
        windows: max pooling's input gradient (kernel table: ``KERNELS["window_argmax_add"]``)."""
        op = "window_argmax_add"
        shape = _shape_arg(shape, op)
        kernel, stride, dilation = _window_args(len(shape), kernel, stride, dilation, op)
        n = len(kernel)
        padding = _counts(padding, n, "padding", op)
        self._real_floating(g, op)
        lead = shape[:len(shape) - n]
        if (g.ndim != len(shape) or tuple(g.shape[:len(lead)]) != lead
                or tuple(offsets.shape) != tuple(g.shape)):
            raise ValueError(f"{op}: expected g of shape {lead} + out (one entry per window of "
                             f"the last {n} dims of shape {shape}) and offsets of g's shape; "
                             f"got g {tuple(g.shape)} and offsets {tuple(offsets.shape)}")
        dt = self.from_native.get(getattr(offsets, "dtype", None))
        if dt is None or dt.kind not in "iu":
            raise TypeError(f"{op}: offsets must be an array of integers, got "
                            f"{dt if dt is not None else type(offsets).__name__}")
        return self._kernels[op](shape, g, offsets, kernel, stride, dilation, padding)

    # ---- argument checks shared by every implementation

    def _values_like(self, x, values, op, name, scalars=False):
        """``values`` as an array of x's dtype: a Python scalar of a kind x's dtype holds is
        converted (where ``scalars``); an array must already have x's dtype."""
        if not hasattr(values, "dtype"):
            kind = self.dtype_of(x).kind
            if scalars and values.__class__ in _SCALARS_FOR_KIND[kind]:
                return self.xp.asarray(values, dtype=x.dtype, **self.device_kwargs)
            allowed = ("a Python " + "/".join(c.__name__ for c in _SCALARS_FOR_KIND[kind]) + " or "
                       if scalars else "")
            raise TypeError(f"{op}: {name} must be {allowed}an array of x's dtype "
                            f"{self.dtype_of(x)}, got {type(values).__name__} {values!r}")
        if values.dtype != x.dtype:
            got = self.from_native.get(values.dtype, values.dtype)
            raise TypeError(f"{op}: {name} has dtype {got} but x has dtype {self.dtype_of(x)}; "
                            f"they must match (cast one first)")
        return values

    def _index(self, index, n, op, name="index"):
        """An integer index array for a dim of size ``n``, negative entries counted from the
        end; an IndexError naming the range for entries outside ``[-n, n)``."""
        dt = self.from_native.get(getattr(index, "dtype", None))
        if dt is None or dt.kind not in "iu":
            got = dt if dt is not None else f"{type(index).__name__}"
            raise TypeError(f"{op}: {name} must be an array of integers, got {got}")
        if math.prod(index.shape) == 0:
            return index
        lo, hi = self._min_max(index)
        if lo < -n or hi >= n:
            raise IndexError(f"{op}: {name} entries must lie in [{-n}, {n}) for a dimension of "
                             f"size {n}; got entries from {lo} to {hi}")
        return self.xp.where(index < 0, index + n, index) if lo < 0 else index

    def _min_max(self, index):
        """The smallest and the largest entry of a non-empty integer array, as Python ints."""
        return int(self.xp.min(index)), int(self.xp.max(index))

    # ---- the standard-only fallbacks (interop/backends/_fallbacks.py), on this backend's
    # namespace and device: what array-api-strict and registered namespaces run

    def _fallback_sum_to(self, x, shape):
        return _fallbacks.sum_to(self.xp, x, shape)

    def _fallback_getitem(self, x, key):
        return _fallbacks.getitem(self.xp, x, key, index_dtype=self._index_dtype(),
                                  device=self.native_device)

    def _fallback_add_at(self, x, key, values):
        return _fallbacks.add_at(self.xp, x, key, values, index_dtype=self._index_dtype(),
                                 device=self.native_device)

    def _fallback_index_add(self, x, dim, index, source):
        return _fallbacks.index_add(self.xp, x, dim, index, source, device=self.native_device)

    def _fallback_scatter_add(self, x, dim, index, src):
        return _fallbacks.scatter_add(self.xp, x, dim, index, src,
                                      index_dtype=self._index_dtype(), device=self.native_device)

    def _fallback_windows(self, x, kernel, stride, dilation):
        return _fallbacks.windows(self.xp, x, kernel, stride, dilation, device=self.native_device)

    def _fallback_windows_add(self, shape, cols, kernel, stride, dilation):
        return _fallbacks.windows_add(self.xp, shape, cols, kernel, stride, dilation,
                                      device=self.native_device, mutable=self.mutable)

    def _fallback_softmax(self, x, dim):
        return _fallbacks.softmax(self.xp, x, dim, device=self.native_device)

    def _fallback_log_softmax(self, x, dim):
        return _fallbacks.softmax(self.xp, x, dim, device=self.native_device, log=True)

    def _fallback_softmax_backward(self, grad, output, dim):
        return _fallbacks.softmax_backward(self.xp, grad, output, dim)

    def _fallback_log_softmax_backward(self, grad, output, dim):
        return _fallbacks.log_softmax_backward(self.xp, grad, output, dim,
                                               device=self.native_device)

    def _fallback_normalize_rows(self, x, weight, bias, eps):
        return _fallbacks.normalize_rows(self.xp, x, weight, bias, eps,
                                         device=self.native_device)

    def _fallback_normalize_rows_backward(self, grad, x, weight, mean, rstd, wshape):
        return _fallbacks.normalize_rows_backward(self.xp, grad, x, weight, mean, rstd, wshape,
                                                  device=self.native_device)

    def _fallback_normalize_channels(self, x, weight, bias, eps):
        return _fallbacks.normalize_channels(self.xp, x, weight, bias, eps,
                                             device=self.native_device)

    def _fallback_normalize_channels_backward(self, grad, x, weight, mean, rstd):
        return _fallbacks.normalize_channels_backward(self.xp, grad, x, weight, mean, rstd)

    def _fallback_batch_to_front(self, x, bias):
        return _fallbacks.batch_to_front(self.xp, x, bias)

    def _fallback_batch_to_back(self, x):
        return _fallbacks.batch_to_back(self.xp, x)

    def _fallback_windows_product(self, a, x, kernel, stride, dilation):
        return _fallbacks.windows_product(self.xp, a, x, kernel, stride, dilation,
                                          device=self.native_device)

    def _fallback_product_windows(self, a, x, kernel, stride, dilation):
        return _fallbacks.product_windows(self.xp, a, x, kernel, stride, dilation,
                                          device=self.native_device)

    def _fallback_windows_add_product(self, shape, a, b, kernel, stride, dilation):
        return _fallbacks.windows_add_product(self.xp, shape, a, b, kernel, stride, dilation,
                                              device=self.native_device, mutable=self.mutable)

    def _fallback_window_argmax(self, x, kernel, stride, dilation, padding, out):
        return _fallbacks.window_argmax(self.xp, x, kernel, stride, dilation, padding, out,
                                        device=self.native_device)

    def _fallback_window_argmax_add(self, shape, g, offsets, kernel, stride, dilation, padding):
        return _fallbacks.window_argmax_add(self.xp, shape, g, offsets, kernel, stride,
                                            dilation, padding, device=self.native_device,
                                            mutable=self.mutable)

    # ---- the activation kernels (kernel table: KERNELS["gelu"] ...), their checks and
    # their standard-only fallbacks

    # (sigmoid is on the per-op hot path of small tensors: its checks are inline)
    def relu(self, x):
        """0 where ``x`` < 0, else ``x`` (kernel table: ``KERNELS["relu"]``)."""
        if x.dtype in self.complex_natives or self.dtype_of(x) is _dt.bool:
            raise TypeError(f"relu: expected an array of a real numeric dtype, got "
                            f"{self.from_native.get(x.dtype, x.dtype)}")
        return self._kernels["relu"](x)

    def relu_backward(self, g, y):
        """0 where ``y`` <= 0, else ``g``: relu's gradient from its output ``y``."""
        return self._kernels["relu_backward"](self._gradient_like(g, y, "relu_backward"), y)

    def sigmoid(self, x):
        """``1 / (1 + exp(-x))`` of a floating or complex ``x`` (kernel table:
        ``KERNELS["sigmoid"]``)."""
        if x.dtype not in self.inexact_natives:
            raise TypeError(f"sigmoid: expected an array of a floating or complex dtype, got "
                            f"{self.from_native.get(x.dtype, x.dtype)}")
        return self._kernels["sigmoid"](x)

    def sigmoid_backward(self, g, y):
        """``g y (1 - y)``: the sigmoid's gradient from its output ``y``."""
        if g.dtype is not y.dtype or g.shape != y.shape or y.dtype not in self.float_natives:
            self._gradient_like(g, y, "sigmoid_backward")      # (the careful check, and why)
        return self._kernels["sigmoid_backward"](g, y)

    def silu(self, x):
        """``x sigmoid(x)`` (kernel table: ``KERNELS["silu"]``)."""
        return self._kernels["silu"](self._real_floating(x, "silu"))

    def silu_backward(self, g, x):
        """``g`` times silu's derivative at ``x``."""
        return self._kernels["silu_backward"](self._gradient_like(g, x, "silu_backward"), x)

    def gelu(self, x, approximate):
        """``x Phi(x)``, or its tanh approximation (kernel table: ``KERNELS["gelu"]``)."""
        return self._kernels["gelu"](self._real_floating(x, "gelu"),
                                     _approximate(approximate, "gelu"))

    def gelu_backward(self, g, x, approximate):
        """``g`` times gelu's derivative at ``x``."""
        return self._kernels["gelu_backward"](self._gradient_like(g, x, "gelu_backward"), x,
                                              _approximate(approximate, "gelu_backward"))

    def _real_floating(self, x, op):
        if x.dtype not in self.inexact_natives or x.dtype in self.complex_natives:
            raise TypeError(f"{op}: expected an array of a real floating dtype, got "
                            f"{self.from_native.get(x.dtype, x.dtype)}")
        return x

    def _gradient_like(self, g, x, op):
        """``g`` checked to have the shape and dtype of the (real floating) ``x``."""
        self._real_floating(x, op)
        if g.shape != x.shape or g.dtype != x.dtype:
            raise ValueError(f"{op}: the gradient must have the input's shape {tuple(x.shape)} "
                             f"and dtype {self.from_native.get(x.dtype, x.dtype)}; got shape "
                             f"{tuple(g.shape)} and dtype {self.from_native.get(g.dtype, g.dtype)}")
        return g

    def _fallback_relu(self, x):
        return _fallbacks.relu(self.xp, x)

    def _fallback_relu_backward(self, g, y):
        return _fallbacks.relu_backward(self.xp, g, y)

    def _fallback_sigmoid(self, x):
        return _fallbacks.sigmoid(self.xp, x)

    def _fallback_sigmoid_backward(self, g, y):
        return _fallbacks.sigmoid_backward(self.xp, g, y)

    def _fallback_silu(self, x):
        return _fallbacks.silu(self.xp, x)

    def _fallback_silu_backward(self, g, x):
        return _fallbacks.silu_backward(self.xp, g, x)

    def _fallback_gelu(self, x, approximate):
        return _fallbacks.gelu(self.xp, x, approximate)

    def _fallback_gelu_backward(self, g, x, approximate):
        return _fallbacks.gelu_backward(self.xp, g, x, approximate)

    # ---- cross entropy on class indices (kernel table: KERNELS["class_cross_entropy"])

    def class_cross_entropy(self, x, target, ignore_index, reduction):
        """PyTorch's cross_entropy of (N, C) logits against (N,) class indices."""
        op = "class_cross_entropy"
        self._class_targets(x, target, ignore_index, reduction, op)
        return self._kernels[op](x, target, ignore_index, reduction)

    def class_cross_entropy_backward(self, g, x, target, ignore_index, reduction):
        """Its gradient for the logits, ``g`` the gradient of its result."""
        op = "class_cross_entropy_backward"
        self._class_targets(x, target, ignore_index, reduction, op)
        want = (x.shape[0],) if reduction == "none" else ()
        if tuple(g.shape) != want or g.dtype != x.dtype:
            raise ValueError(f"{op}: the gradient of a reduction={reduction!r} loss must have "
                             f"shape {want} and the logits' dtype "
                             f"{self.from_native.get(x.dtype, x.dtype)}; got shape "
                             f"{tuple(g.shape)} and dtype {self.from_native.get(g.dtype, g.dtype)}")
        return self._kernels[op](g, x, target, ignore_index, reduction)

    def _class_targets(self, x, target, ignore_index, reduction, op):
        """The checks of the cross-entropy kernels (see ``_kernels._CLASS_TARGETS``); an
        IndexError names the first target out of range."""
        self._real_floating(x, op)
        dt = self.from_native.get(getattr(target, "dtype", None))
        if x.ndim != 2 or dt is None or dt.kind not in "iu" or tuple(target.shape) != x.shape[:1]:
            raise ValueError(f"{op}: expected (N, C) logits and (N,) integer targets, got "
                             f"logits of shape {tuple(x.shape)} and target of shape "
                             f"{tuple(getattr(target, 'shape', ()))} and dtype {dt}")
        if ignore_index.__class__ is not int or reduction not in ("none", "sum", "mean"):
            raise ValueError(f"{op}: expected an int ignore_index and reduction 'none', 'sum' "
                             f"or 'mean'; got {ignore_index!r} and {reduction!r}")
        n = x.shape[1]
        if math.prod(target.shape):
            lo, hi = self._min_max(target)
            if lo < 0 or hi >= n:
                xp = self.xp
                bad = ((target < 0) | (target >= n)) & (target != ignore_index)
                if bool(xp.any(bad)):
                    first = int(target[int(xp.argmax(xp.astype(bad, xp.int8)))])
                    raise IndexError(f"{op}: target {first} is out of bounds for {n} classes "
                                     f"(expected 0 <= target < {n}, or ignore_index="
                                     f"{ignore_index})")

    def _fallback_class_cross_entropy(self, x, target, ignore_index, reduction):
        return _fallbacks.class_cross_entropy(self.xp, x, target, ignore_index, reduction,
                                              device=self.native_device)

    def _fallback_class_cross_entropy_backward(self, g, x, target, ignore_index, reduction):
        return _fallbacks.class_cross_entropy_backward(self.xp, g, x, target, ignore_index,
                                                       reduction, device=self.native_device)

    # ---- Adam's update (issue 29): the one operation here that writes into its arguments,
    # so not a kernel of the table (whose kernels have no side effects)

    def adam_update_(self, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, weight1, weight2,
                     eps, scale, block, *, maximize=False, weight_decay=0.0, shrink=None):
        """One Adam update of ``param`` and its state, in place. The gradient is ``grad``,
        negated where ``maximize``, plus ``weight_decay * param`` where ``weight_decay`` is
        not 0 (L2 decay); ``param`` is first multiplied by ``shrink`` where it is not None
        (decoupled decay: AdamW's ``1 - lr * weight_decay``). Then ``exp_avg += weight1 *
        (g - exp_avg)`` and ``exp_avg_sq += weight2 * (g**2 - exp_avg_sq)``, each computed as
        ``(avg * ((1 - w) / w) + x) * w`` where w != 0 (``interop.optim``'s ``ema_``);
        ``max_exp_avg_sq`` (or None) keeps the running maximum of ``exp_avg_sq``; and
        ``param -= exp_avg / (sqrt(v) + eps) * scale``, v that maximum where kept, else
        ``exp_avg_sq``. The arrays have one real floating dtype and one shape, on a mutable
        backend; ``grad`` is only read and shares no memory with the others (the caller
        copies it first where it does); the scalars are real numbers; ``block`` is the size
        of the blocks of rows the standard-only passes run in (a cache tiling: the results
        do not depend on it). Every implementation gives the bits of the standard-only one
        (``_fallbacks.adam_update_``). Returns None."""
        op = "adam_update_"
        if not self.mutable:
            raise TypeError(f"{op}: backend {self.name!r} has immutable arrays")
        if param.dtype not in self.float_natives:
            raise TypeError(f"{op}: expected arrays of a real floating dtype, got param of "
                            f"dtype {self.from_native.get(param.dtype, param.dtype)}")
        shape = tuple(param.shape)
        for name, a in (("grad", grad), ("exp_avg", exp_avg), ("exp_avg_sq", exp_avg_sq),
                        ("max_exp_avg_sq", max_exp_avg_sq)):
            if a is not None and (a.dtype != param.dtype or tuple(a.shape) != shape):
                raise ValueError(f"{op}: expected {name} of param's shape {shape} and dtype "
                                 f"{self.from_native.get(param.dtype, param.dtype)}, got "
                                 f"shape {tuple(a.shape)} and dtype "
                                 f"{self.from_native.get(a.dtype, a.dtype)}")
        if not (isinstance(block, int) and block >= 1):
            raise ValueError(f"{op}: expected block to be a positive int, got {block!r}")
        if not isinstance(maximize, bool):
            raise TypeError(f"{op}: expected maximize to be a bool, got "
                            f"{type(maximize).__name__}")
        self._adam_update_(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, float(weight1),
                           float(weight2), float(eps), float(scale), block, maximize,
                           float(weight_decay), None if shrink is None else float(shrink))

    def _adam_update_(self, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, weight1, weight2,
                      eps, scale, block, maximize, weight_decay, shrink):
        """This backend's implementation of :meth:`adam_update_` (arguments checked): the
        standard-only passes. The cpu backend runs a compiled pass where it can."""
        _fallbacks.adam_update_(self.xp, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq,
                                weight1, weight2, eps, scale, block, maximize, weight_decay,
                                shrink)

    # ---- the LSTM's time loop (kernel table: KERNELS["lstm_scan"], ["lstm_scan_backward"])

    def lstm_scan(self, xw, h0, c0, w_hh, w_hr, sizes, reverse, keep):
        """An LSTM layer and direction over the packed rows ``xw``: ``(out, h_n, c_n)``, and
        where ``keep`` what ``lstm_scan_backward`` reads (kernel table:
        ``KERNELS["lstm_scan"]``)."""
        op = "lstm_scan"
        self._real_floating(xw, op)
        sizes = _lstm_args(xw.shape[0], {"xw": xw, "h0": h0, "c0": c0, "w_hh": w_hh,
                                         "w_hr": w_hr}, sizes, op)
        return self._kernels[op](xw, h0, c0, w_hh, w_hr, sizes, bool(reverse), bool(keep))

    def lstm_scan_backward(self, g_out, g_hn, g_cn, acts, c_prev, tc, m, w_hh, w_hr, sizes,
                           reverse, need_h0, need_c0):
        """The gradients of ``lstm_scan`` (kernel table: ``KERNELS["lstm_scan_backward"]``):
        ``(d_xw, dh0, dc0, d_h)``."""
        op = "lstm_scan_backward"
        self._real_floating(acts, op)
        sizes = _lstm_args(acts.shape[0], {"g_out": g_out, "g_hn": g_hn, "g_cn": g_cn,
                                           "acts": acts, "c_prev": c_prev, "tc": tc, "m": m,
                                           "w_hh": w_hh, "w_hr": w_hr}, sizes, op)
        return self._kernels[op](g_out, g_hn, g_cn, acts, c_prev, tc, m, w_hh, w_hr, sizes,
                                 bool(reverse), bool(need_h0), bool(need_c0))

    def _fallback_lstm_scan(self, xw, h0, c0, w_hh, w_hr, sizes, reverse, keep):
        return _fallbacks.lstm_scan(self.xp, xw, h0, c0, w_hh, w_hr, sizes, reverse, keep)

    def _fallback_lstm_scan_backward(self, g_out, g_hn, g_cn, acts, c_prev, tc, m, w_hh, w_hr,
                                     sizes, reverse, need_h0, need_c0):
        return _fallbacks.lstm_scan_backward(self.xp, g_out, g_hn, g_cn, acts, c_prev, tc, m,
                                             w_hh, w_hr, sizes, reverse, need_h0, need_c0)

    # ---- helpers of the native kernels, on this backend's namespace and device

    def _index_dtype(self):
        """The native dtype of the default integer dtype (positions, index arrays)."""
        return self.to_native[self.default_int]

    def _key_in_bounds(self, x, key, op):
        """An IndexError for an integer or integer-array entry of ``key`` out of range for the
        dim of ``x`` it indexes (one synchronization per array on an accelerator)."""
        _fallbacks.key_in_bounds(self.xp, x, key, op, self._min_max)

    def _getitem_native_first(self, x, key):
        """``x[key]`` by the library's own indexing where it takes the key, else rewritten
        into the standard's integer-array form (for a library that checks bounds itself).
        ``_fallbacks.getitem_native_first`` with the library's own indexing tried inline: this
        is the NumPy backend's getitem kernel, on every indexing with an array."""
        try:
            return x[key]
        except IndexError:
            if all(_fallbacks.is_basic_index(k) for k in key):
                raise
        return self._getitem_by_arrays(x, key)

    def _getitem_by_arrays(self, x, key):
        """``x[key]`` rewritten into the standard's integer-array form."""
        return _fallbacks.getitem_by_arrays(self.xp, x, key, index_dtype=self._index_dtype(),
                                            device=self.native_device)

    def scatter_positions(self, shape, dim, index):
        """For each element of ``index`` (row-major order), the flat row-major position in an
        array of ``shape`` that torch.scatter's layout sends it to: ``index``'s entry along
        ``dim``, its own coordinate along every other dim. A 1-d array of the default integer
        dtype."""
        return _fallbacks.scatter_positions(self.xp, shape, dim, index,
                                            index_dtype=self._index_dtype(),
                                            device=self.native_device)

    def _scatter_coords(self, dim, index, itype=None):
        """For each dim d != ``dim``, the coordinate along d of every element of ``index``, as an
        arange shaped to broadcast against ``index`` (``index`` itself at ``dim``): the target
        coordinates of torch.scatter's layout."""
        return _fallbacks.scatter_coords(self.xp, dim, index, itype, device=self.native_device)

    # --------------------------------------------------------------------- RNG
    def make_rng(self, seed):
        """A fresh random source seeded with ``seed``; see :class:`HostRNG`."""
        return HostRNG(self, seed)


def _take_capsule(obj):
    """The capsule of a producer, asked as NumPy asks (versioned where the producer can
    give one; producers that predate those keywords are asked plainly)."""
    try:
        return obj.__dlpack__(max_version=(1, 0), dl_device=None, copy=None)
    except TypeError:
        return obj.__dlpack__()


# Python scalars a kernel accepts as values, by the kind of x's dtype (the standard's rules,
# with bool as a 0/1 integer as in NumPy).
_SCALARS_FOR_KIND = {"b": (bool,), "i": (bool, int), "u": (bool, int), "f": (bool, int, float),
                     "c": (bool, int, float, complex)}


def _axis(dim, ndim, op):
    """``dim`` for an array of ``ndim`` dims as a non-negative int (a 0-d array takes 0 and -1)."""
    try:
        d = dim.__index__()
    except AttributeError:
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__} {dim!r}") from None
    n = max(ndim, 1)
    if not -n <= d < n:
        raise IndexError(f"{op}: dim {dim} is out of range for an array of {ndim} dims "
                         f"(expected one in [{-n}, {n - 1}])")
    return d + n if d < 0 else d


def _softmax_axes(dim, ndim, op):
    """softmax's ``dim`` (an int or a sequence of ints, negative counting from the end) as a
    tuple of distinct non-negative axes; empty for a 0-d array (PyTorch's 0-d softmax)."""
    dims = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    axes = tuple(_axis(d, ndim, op) for d in dims)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op}: dim {dims} names an axis twice")
    return axes if ndim else ()


def _same_layout(grad, output, op):
    if tuple(grad.shape) != tuple(output.shape) or grad.dtype != output.dtype:
        raise ValueError(f"{op}: grad and output must have one shape and dtype; got grad "
                         f"{tuple(grad.shape)} {grad.dtype} and output {tuple(output.shape)} "
                         f"{output.dtype}")


def _rows_args(x, weight, bias, wshape, op):
    """normalize_rows's arguments: x (R, P, Q) non-empty, weight and bias None or of one shape
    (G, P, Qw) with G dividing R and Qw in (1, Q), of x's dtype; ``wshape`` (backward) that
    shape."""
    if x.ndim != 3 or 0 in tuple(x.shape):
        raise ValueError(f"{op}: expected a non-empty (R, P, Q) array x, got shape "
                         f"{tuple(x.shape)}")
    shapes = {tuple(a.shape) for a in (weight, bias) if a is not None}
    if wshape is not None:
        shapes.add(wshape)
    for a in (weight, bias):
        if a is not None and a.dtype != x.dtype:
            raise TypeError(f"{op}: weight and bias must have x's dtype {x.dtype}, got {a.dtype}")
    if len(shapes) > 1 or any(len(w) != 3 or x.shape[0] % max(w[0], 1) or w[0] < 1
                              or w[1] != x.shape[1] or w[2] not in (1, x.shape[2])
                              for w in shapes):
        raise ValueError(f"{op}: weight, bias and wshape must share one shape (G, P, Qw) with G "
                         f"dividing R and Qw 1 or Q, for x of shape (R, P, Q) = "
                         f"{tuple(x.shape)}; got {sorted(shapes)}")


def _channels_args(x, vectors, op):
    """normalize_channels's arguments: x (A, K, L) non-empty; each of ``vectors`` None or a
    (K,) array of x's dtype."""
    if x.ndim != 3 or 0 in tuple(x.shape):
        raise ValueError(f"{op}: expected a non-empty (A, K, L) array x, got shape "
                         f"{tuple(x.shape)}")
    for a in vectors:
        if a is not None and (tuple(a.shape) != (x.shape[1],) or a.dtype != x.dtype):
            raise ValueError(f"{op}: weight, bias, mean and rstd must be ({x.shape[1]},) "
                             f"arrays of x's dtype {x.dtype}, one entry per channel; got "
                             f"{tuple(a.shape)} {a.dtype}")


def _lstm_args(rows, arrays, sizes, op):
    """The LSTM kernels' arguments, ``arrays`` by their role (see ``_kernels._LSTM_STEPS``):
    xw or acts (N, 4H), g_out (N, P), h0 or g_hn (B, P), c0 or g_cn (B, H), c_prev, tc and m
    (N, H), w_hh (4H, P), w_hr None or (P, H) (P = H without it; m None exactly where w_hr
    is), all of one dtype; ``sizes`` the rows of each step. Returns ``sizes`` as a tuple of
    Python ints; errors name what was expected and what was given."""
    hn, cn = ("h0", "c0") if "h0" in arrays else ("g_hn", "g_cn")
    h0, c0, w_hr = arrays[hn], arrays[cn], arrays["w_hr"]
    if h0.ndim != 2 or c0.ndim != 2 or h0.shape[0] != c0.shape[0] or (
            w_hr is None and h0.shape[1] != c0.shape[1]):
        raise ValueError(f"{op}: expected {hn} (B, P) and {cn} (B, H), P = H without a "
                         f"projection; got shapes {tuple(h0.shape)} and {tuple(c0.shape)}")
    (B, P), H = tuple(h0.shape), c0.shape[1]
    if "m" in arrays and (arrays["m"] is None) != (w_hr is None):
        raise ValueError(f"{op}: m must be given exactly where w_hr is (a projection)")
    want = {"xw": (rows, 4 * H), "acts": (rows, 4 * H), "g_out": (rows, P), hn: (B, P),
            cn: (B, H), "c_prev": (rows, H), "tc": (rows, H), "m": (rows, H),
            "w_hh": (4 * H, P), "w_hr": (P, H)}
    for name, a in arrays.items():
        if a is not None and (tuple(a.shape) != want[name] or a.dtype != h0.dtype):
            raise ValueError(f"{op}: expected {name} of shape {want[name]} and dtype "
                             f"{h0.dtype} (N = {rows} rows, B = {B}, H = {H}, P = {P}); got "
                             f"shape {tuple(a.shape)} and dtype {a.dtype}")
    try:
        sizes = tuple(operator.index(n) for n in sizes)
    except TypeError:
        raise TypeError(f"{op}: sizes must be a sequence of ints, got {sizes!r}") from None
    if (not sizes or sizes[0] != B or sum(sizes) != rows or min(sizes) < 0
            or any(a < b for a, b in zip(sizes, sizes[1:]))):
        raise ValueError(f"{op}: sizes must give the rows of at least one step, none "
                         f"increasing, the first equal to the batch {B}, summing to the "
                         f"{rows} rows; got {sizes!r}")
    return sizes


def _shape_arg(shape, op):
    """``shape`` as a tuple of ints >= 0; errors name what was given."""
    try:
        shape = tuple(operator.index(n) for n in shape)
    except TypeError:
        raise TypeError(f"{op}: shape must be a tuple of ints, got {shape!r}") from None
    if any(n < 0 for n in shape):
        raise ValueError(f"{op}: shape {shape} has a negative size")
    return shape


def _batch_args(x, op):
    """batch_to_front's and batch_to_back's x: an array of 3 dims."""
    if x.ndim != 3:
        raise ValueError(f"{op}: expected an array x of 3 dims, got shape {tuple(x.shape)}")


def _window_args(ndim, kernel, stride, dilation, op):
    """``kernel``, ``stride`` and ``dilation`` as tuples of one length n in ``[1, ndim]`` of
    positive Python ints; errors name what was given."""
    out = []
    for name, v in (("kernel", kernel), ("stride", stride), ("dilation", dilation)):
        try:
            out.append(tuple(operator.index(k) for k in v))
        except TypeError:
            raise TypeError(f"{op}: {name} must be a tuple of ints, got {v!r}") from None
    n = len(out[0])
    if not 1 <= n <= ndim or any(len(t) != n for t in out):
        raise ValueError(f"{op}: kernel, stride and dilation must be tuples of one length n with "
                         f"1 <= n <= {ndim} (the dims of the array); got kernel {out[0]}, stride "
                         f"{out[1]}, dilation {out[2]}")
    if any(k <= 0 for t in out for k in t):
        raise ValueError(f"{op}: kernel, stride and dilation must be positive; got kernel "
                         f"{out[0]}, stride {out[1]}, dilation {out[2]}")
    return tuple(out)


def _counts(v, n, name, op):
    """``v`` as a tuple of ``n`` Python ints >= 0 (window_argmax's padding and out)."""
    try:
        v = tuple(operator.index(k) for k in v)
    except TypeError:
        raise TypeError(f"{op}: {name} must be a tuple of ints, got {v!r}") from None
    if len(v) != n or any(k < 0 for k in v):
        raise ValueError(f"{op}: {name} must be a tuple of {n} ints >= 0 (one per windowed "
                         f"dim), got {v}")
    return v


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


def _approximate(approximate, op):
    """gelu's ``approximate``, checked: ``'none'`` or ``'tanh'``."""
    if approximate != "none" and approximate != "tanh":
        raise ValueError(f"{op}: approximate must be 'none' or 'tanh', got {approximate!r}")
    return approximate
