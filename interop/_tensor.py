"""The Tensor: a :class:`~interop.autograd.Variable` (one backend array and its autograd
state) with the operations, assembled from one mixin per concern:

=====================  =============================================================
``ArithmeticMethods``  operators and binary elementwise ops (``interop._ops.binary``)
``UnaryMethods``       unary elementwise ops (``interop._ops.unary``)
``ReductionMethods``   sum, mean, max, softmax... (``interop._ops.reduce``)
``ViewMethods``        reshape, permute, squeeze, expand... (``interop._ops.views``)
``JoinMethods``        split, chunk, unbind (``interop._ops.join``)
``IndexingMethods``    ``x[key]``, gather, take... (``interop._ops.indexing``)
``SelectionMethods``   where, clamp, masked_fill (``interop._ops.select``)
``LinalgMethods``      ``@``, matmul, mm (``interop._ops.matmul``)
``ConversionMethods``  astype, to, cpu, float... (``interop._ops.cast``)
``MutationMethods``    every in-place op and ``x[key] = v`` (``interop._ops.mutation``)
``SortingMethods``     sort, argsort, topk (``interop._ops.sorting``)
``RearrangeMethods``   roll, flip, repeat, tile, narrow, unfold, triu, diagonal... (``interop._ops.rearrange``)
``CompoundMethods``    addcmul, addcdiv, lerp (``interop._ops.compound``)
``ScanMethods``        cumprod (``interop._ops.reduce``)
``SamplingMethods``    multinomial (``interop._ops.sampling``)
``DLPackMethods``      ``__dlpack__``, ``__dlpack_device__``, ``_from_dlpack`` (``interop._dlpack``)
``InPlaceTwinMethods`` asin_, eq_, index_add_, squeeze_, random_... (``interop._ops.inplace_twins``)
``UniqueMethods``      unique, unique_consecutive, argwhere (``interop._ops.unique``)
``StatisticsMethods``  bincount, histc (``interop._ops.statistics``)
``EqualMethods``       equal: one bool for the whole tensor (``interop._ops.tensor_equal``)
``SpecialMethods``     erf, erfc, erfinv, logit, xlogy and in-place twins (``interop._ops.special``)
=====================  =============================================================

Op results are built by :meth:`Tensor._make`, the lean constructor, and are plain
``Tensor`` objects also when an input is a subclass (as ``nn.Parameter * 2`` is a plain
tensor in PyTorch). A subclass that wants results of its own type overrides ``_make``.
"""

import math
import sys

from . import dtypes as _dt
from ._ops.cast import ConversionMethods
from ._ops.compound import CompoundMethods
from ._convert import from_object
from ._dtype_rules import default_for_kind, interop_dtype, scalar_kind, _HasTensors
from ._dlpack import DLPackMethods
from ._args import norm_dim, size_arg
from ._ops.binary import ArithmeticMethods
from ._ops.indexing import IndexingMethods
from ._ops.join import JoinMethods
from ._ops.matmul import LinalgMethods
from ._ops.mutation import MutationMethods
from ._ops.rearrange import RearrangeMethods
from ._ops.reduce import ReductionMethods, ScanMethods
from ._ops.sampling import SamplingMethods
from ._ops.select import SelectionMethods
from ._ops.sorting import SortingMethods
from ._ops.special import SpecialMethods
from ._ops.unary import UnaryMethods
from ._ops.views import ViewMethods, make_alias, _register
from ._ops.inplace_twins import InPlaceTwinMethods
from ._ops.statistics import StatisticsMethods
from ._ops.tensor_equal import EqualMethods
from ._ops.unique import UniqueMethods
from .autograd import engine as _engine
from .autograd.variable import Variable
from .backends import backend_for

__all__ = ["Tensor", "Size"]

_new = object.__new__
_API_VERSIONS = ("2023.12", "2024.12", "2025.12")


class Tensor(Variable, ArithmeticMethods, UnaryMethods, ReductionMethods, ViewMethods, JoinMethods,
             IndexingMethods, SelectionMethods, LinalgMethods, ConversionMethods, MutationMethods,
             SortingMethods, RearrangeMethods, CompoundMethods, ScanMethods, SamplingMethods,
             DLPackMethods, InPlaceTwinMethods, UniqueMethods, StatisticsMethods, EqualMethods,
             SpecialMethods):
    """A multi-dimensional array on a backend, with autograd.

    ``Tensor(data, dtype=None, device=None, requires_grad=False)`` copies ``data`` (as
    :func:`interop.tensor`); ``Tensor(2, 3)`` and ``Tensor()`` make an uninitialized float
    tensor of that size, as in PyTorch.
    """

    __slots__ = ()

    # NumPy defers to us in mixed expressions (no silent object arrays of tensors).
    __array_ufunc__ = None

    # ---------------------------------------------------------------- creation
    def __init__(self, *data, dtype=None, device=None, requires_grad=False):
        try:
            self._data
            return      # already built by a subclass's __new__ (e.g. from as_subclass)
        except AttributeError:
            pass
        be = backend_for(device)
        dt = interop_dtype(be, dtype)
        is_size = all(d.__class__ is int for d in data) or (len(data) == 1 and
                                                          isinstance(data[0], Size))
        if is_size:
            shape = size_arg(data, "Tensor") if data else (0,)
            arr = be.empty(shape, be.native_dtype(dt or be.default_float))
        elif len(data) == 1:
            arr = from_object(data[0], dt if dt is not None else _float_default(be, data[0]),
                              be, True)
        else:
            raise TypeError(f"Tensor(): expected data (one argument) or a size (ints), got "
                            f"{', '.join(type(d).__name__ for d in data)}")
        self._data = arr
        self._be = be
        self._node = None
        self._grad = None
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def _make(data, be, node):
        """A plain Tensor over raw array ``data`` of backend ``be``, produced by ``node``."""
        t = _new(Tensor)
        t._data = data
        t._be = be
        t._node = node
        t._grad = None
        return t

    def as_subclass(self, cls):
        """This tensor's data and graph as an instance of Tensor subclass ``cls`` (no copy)."""
        if not (isinstance(cls, type) and issubclass(cls, Tensor)):
            raise TypeError(f"as_subclass: expected a subclass of interop.Tensor, got {cls!r}")
        t = _new(cls)
        t._data = self._data
        t._be = self._be
        t._node = self._node
        t._grad = None
        t._vroot = self if self._vroot is None else self._vroot
        if not self._be.mutable:     # in-place ops there rebind; they must know who shares
            _register(t._vroot, t)
        return t

    # ------------------------------------------------------------- properties
    @property
    def dtype(self):
        return self._be.dtype_of(self._data)

    @property
    def device(self):
        return self._be.device

    @property
    def backend(self):
        """The :class:`~interop.backends.Backend` holding this tensor's data."""
        return self._be

    @property
    def shape(self):
        return Size(self._data.shape)

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    ndimension = dim

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[norm_dim(dim, self._data.ndim, "size")]

    def numel(self):
        return math.prod(self._data.shape)

    nelement = numel

    def element_size(self):
        return self.dtype.itemsize

    @property
    def itemsize(self):
        return self.dtype.itemsize

    @property
    def nbytes(self):
        return self.numel() * self.dtype.itemsize

    @property
    def is_cuda(self):
        return self._be.device.type == "cuda"

    # PyTorch's other device-kind flags (code tests them as dcgan tests ``input.is_xpu``):
    # true only on a backend whose device has that type
    @property
    def is_cpu(self):
        return self._be.device.type == "cpu"

    @property
    def is_xpu(self):
        return self._be.device.type == "xpu"

    @property
    def is_mps(self):
        return self._be.device.type == "mps"

    @property
    def is_meta(self):
        return self._be.device.type == "meta"

    # ... and its layout flags: an interop tensor is always dense and strided
    @property
    def is_sparse(self):
        return False

    @property
    def is_sparse_csr(self):
        return False

    @property
    def is_quantized(self):
        return False

    @property
    def is_nested(self):
        return False

    @property
    def is_mkldnn(self):
        return False

    def is_floating_point(self):
        return self.dtype.is_floating_point

    def is_complex(self):
        return self.dtype.is_complex

    # -------------------------------------------------------------- autograd
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate the gradient of this tensor into ``.grad`` of the leaves."""
        _engine.backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph,
                         inputs=inputs)

    @property
    def data(self):
        """This tensor's data as a tensor outside the graph (shares memory; PyTorch's ``.data``)."""
        return make_alias(self)

    @data.setter
    def data(self, value):
        if not isinstance(value, Variable):
            raise TypeError(f"data must be set to a Tensor, got {type(value).__name__}")
        if value._be is not self._be:
            raise RuntimeError(f"data must stay on backend {self._be.name!r}, got one on "
                               f"{value._be.name!r}")
        self._data = value._data

    def detach(self):
        """A tensor sharing this one's data, cut from the graph."""
        return make_alias(self)

    def detach_(self):
        if self._base is not None:
            raise RuntimeError("detach_() on a view is not allowed; use detach()")
        self._node = None
        return self

    def _writable_data(self):
        """The data as an array that accepts writes (NumPy gives 0-d results as immutable
        scalars: those become 0-d arrays here, once)."""
        d = self._data
        if not d.shape:
            d = self._data = self._be.writable(d)
        return d

    # ----------------------------------------------------------- conversions
    def item(self):
        if self.numel() != 1:
            raise RuntimeError(f"a Tensor with {self.numel()} elements cannot be converted to "
                               f"Scalar (shape {tuple(self.shape)})")
        dt = self.dtype
        a = self._be.xp.reshape(self._data, ())
        if dt is _dt.bool:
            return bool(a)
        if dt.is_complex:
            return complex(a)
        if dt.is_floating_point:
            return float(a)
        return int(a)

    def numpy(self, *, force=False):
        """The data as a NumPy array, sharing memory where the backend allows (CPU only)."""
        if self._node is not None and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        if self._be.device.type != "cpu" and not force:
            raise TypeError(f"can't convert a {self._be.device} tensor to numpy; use .cpu() "
                            f"first (or numpy(force=True) to copy)")
        return self._be.to_host(self._data)

    def share_memory_(self):
        """Moves the data into memory shared between processes (a no-op when it is there
        already): processes forked afterwards, and those this tensor is passed to through
        ``interop.multiprocessing``, read and write the same memory. The cpu backend only;
        the others raise. A view moves its base along (``x.reshape(...)``), and the tensor
        that owns the memory moves with an alias (``Parameter(t)`` and ``t``); other views
        and aliases made before keep the old memory."""
        be = self._be
        if be.is_shared(self._data):
            return self
        base = self._base
        if base is not None:
            old = base._writable_data()
            base.share_memory_()
            data = be.rebase_shared(self._data, old, base._data)
            if data is None:
                raise RuntimeError("share_memory_: this view was taken before its base moved "
                                   "to shared memory; take the view again from the base")
            self._data = data
            return self
        old = self._writable_data()
        new = be.share_memory(old)
        owner = self._vroot
        if owner is not None and owner._data is old:
            owner._data = new
        self._data = new
        return self

    def is_shared(self):
        """True when the data lies in memory shared between processes."""
        return self._be.is_shared(self._data)

    def __array__(self, dtype=None, copy=None):
        """``numpy.asarray(t)``: the data of a CPU tensor (a copy where memory cannot be shared)."""
        if self._be.device.type != "cpu":
            raise TypeError(f"can't convert a {self._be.device} tensor to a NumPy array; use "
                            f".cpu() first")
        a = self._be.to_host(self._data)
        if dtype is not None:
            a = a.astype(dtype, copy=bool(copy))
        elif copy:
            a = a.copy()
        return a

    def tolist(self):
        return self._be.to_host(self._data).tolist()

    def __bool__(self):
        if self.numel() != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self.numel()} elements is ambiguous")
        return bool(self.item())

    def __float__(self):
        if self.numel() != 1:
            raise TypeError(f"only one-element tensors can be converted to Python scalars "
                            f"(shape {tuple(self.shape)})")
        return float(self.item().real) if self.dtype.is_complex else float(self.item())

    def __int__(self):
        if self.numel() != 1:
            raise TypeError(f"only one-element tensors can be converted to Python scalars "
                            f"(shape {tuple(self.shape)})")
        return int(self.item())

    def __complex__(self):
        return complex(self.item())

    def __index__(self):
        if self.dtype.kind not in "iu" or self.numel() != 1:
            raise TypeError(f"only integer tensors of a single element can be converted to an "
                            f"index (dtype {self.dtype}, shape {tuple(self.shape)})")
        return int(self.item())

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __contains__(self, element):
        """``v in t``: some element equals ``v`` (PyTorch's rule)."""
        if not isinstance(element, (Variable, bool, int, float, complex)):
            raise RuntimeError(f"Tensor.__contains__ only supports Tensor or scalar, but you passed "
                               f"in a {type(element).__name__}")
        return bool((self == element).any().item())

    def __array_namespace__(self, api_version=None):
        """``interop.array_api``: the Array API standard's namespace (revision 2025.12), with
        gradients (the top-level ``interop`` namespace is PyTorch's spelling)."""
        if api_version is not None and api_version not in _API_VERSIONS:
            raise ValueError(f"interop implements Array API version 2025.12 (also accepts 2023.12 "
                             f"and 2024.12), got api_version={api_version!r}")
        # The package that defines Tensor imports interop.array_api, so it is loaded
        # whenever a tensor exists.
        return sys.modules[__package__ + ".array_api"]

    def __repr__(self):
        body = self._be.format(self._data, prefix="tensor(")
        extras = []
        dt = self.dtype
        if self.numel() == 0 and self._data.ndim != 1:
            extras.append(f"size={tuple(self.shape)}")
        default = self._be.default_float       # PyTorch names every dtype but the defaults
        if dt not in (default, _dt.int64, _dt.bool, default.to_complex()) or \
                self.numel() == 0 and dt is not default:
            extras.append(f"dtype={dt}")
        if self._be.name != "cpu":
            extras.append(f"device='{self._be.device}'" if self._be.device.type != "cpu"
                          else f"backend='{self._be.name}'")
        gf = self.grad_fn
        if gf is not None:
            extras.append(f"grad_fn=<{gf.name()}>")
        elif self._node is not None:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    __str__ = __repr__

    def __format__(self, spec):
        if self._data.ndim == 0 and spec:
            return format(self.item(), spec)
        return repr(self)

    def __reduce__(self):
        raise TypeError("interop tensors are not pickled; save them with interop.save "
                        "(safetensors), pass them to other processes through "
                        "interop.multiprocessing (shared memory) or pass data through DLPack")

    def __copy__(self):
        raise TypeError("use Tensor.clone() or Tensor.detach() to copy a tensor")

    def __deepcopy__(self, memo):
        if self._node is not None and not self.is_leaf:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support "
                               "the deepcopy protocol at the moment")
        t = self._make(self._be.xp.asarray(self._data, copy=True), self._be, None)
        if self.__class__ is not Tensor:
            t = t.as_subclass(self.__class__)
            t._vroot = None
        if self._node is not None:
            t.requires_grad_(True)
        if self._grad is not None:
            t.grad = self._make(self._be.xp.asarray(self._grad._data, copy=True), self._be, None)
        memo[id(self)] = t
        return t

    # ------------------------------------------------------- new tensors like this one
    def _new_like(self, data_fn, size, dtype, device, requires_grad):
        be = backend_for(device) if device is not None else self._be
        dt = interop_dtype(be, dtype) or self.dtype
        t = self._make(data_fn(be, size_arg(size, "new"), be.native_dtype(dt)), be, None)
        return t.requires_grad_(True) if requires_grad else t

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        return self._new_like(lambda be, s, nd: be.full(s, 0, nd),
                              size, dtype, device, requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        return self._new_like(lambda be, s, nd: be.full(s, 1, nd),
                              size, dtype, device, requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        return self._new_like(lambda be, s, nd: be.empty(s, nd),
                              size, dtype, device, requires_grad)

    def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
        return self._new_like(lambda be, s, nd: be.full(s, fill_value, nd),
                              (size,), dtype, device, requires_grad)

    def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
        be = backend_for(device) if device is not None else self._be
        dt = interop_dtype(be, dtype) or self.dtype
        t = self._make(from_object(data, dt, be, True), be, None)
        return t.requires_grad_(True) if requires_grad else t


def _float_default(be, data):
    """``Tensor(data)`` is float32 for Python data (PyTorch's ``torch.Tensor`` is a float
    tensor type); arrays keep their dtype."""
    if isinstance(data, (list, tuple, bool, int, float)):
        try:
            kind = scalar_kind(data)
        except _HasTensors:     # one-element tensors among the data: PyTorch's float type too
            return be.default_float
        return be.default_float if kind != "c" else default_for_kind(be, "c")
    return None


class Size(tuple):
    """``tensor.shape``: a tuple, printed as PyTorch prints it."""

    __slots__ = ()

    def __repr__(self):
        return f"interop.Size({list(self)})"

    def numel(self):
        return math.prod(self)
