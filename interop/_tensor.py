"""The Tensor: one backend array plus its autograd state.

Hot fields are slots set by :meth:`Tensor._make` (the lean constructor every op
uses); rare fields (view base, version history, output index, name) default on
the class and live in ``__dict__`` only when set.

``_node`` is the edge to the producer: ``None`` (no grad), an
:class:`~interop.autograd.graph.AccumulateGrad` (a leaf that requires grad), a
Node, or ``(node, index)`` for one output of a multi-output node.
"""

import weakref

from . import dtypes as _dt
from .autograd import graph as _graph

__all__ = ["Tensor"]

_AccumulateGrad = _graph.AccumulateGrad


class Tensor:
    __slots__ = ("_data", "_be", "_node", "_grad", "__dict__", "__weakref__")

    _base = None        # root tensor whose storage this view shares (None: owns its data)
    _vh = None          # version history: in-place stamps (kept on the root only)
    _oidx = 0           # output index in a multi-output node
    # How this view is taken from its root ``_base``: a tuple of (kind, arg) steps ("index",
    # "reshape", "permute") that an in-place op on the view replays to update the root's
    # graph; None for aliases (detach(), .data) and views that cannot be written
    # (broadcasts); False for a view of an alias, which an in-place op in a graph refuses.
    _view_ops = None
    _retains_grad = False
    _readonly = False
    name = None
    # NumPy defers to us in mixed expressions (no silent object arrays of tensors).
    __array_ufunc__ = None

    # ---------------------------------------------------------------- creation
    def __init__(self, data, *, dtype=None, device=None, requires_grad=False):
        from ._creation import tensor as _tensor_fn
        t = _tensor_fn(data, dtype=dtype, device=device, requires_grad=requires_grad)
        self._data = t._data
        self._be = t._be
        self._node = None
        self._grad = None
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def _make(data, be, node):
        t = _new(Tensor)
        t._data = data
        t._be = be
        t._node = node
        t._grad = None
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
        return self._data.shape[_norm_dim(dim, self._data.ndim, "size")]

    def numel(self):
        n = 1
        for s in self._data.shape:
            n *= s
        return n

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

    def is_floating_point(self):
        return self.dtype.is_floating_point

    def is_complex(self):
        return self.dtype.is_complex

    # -------------------------------------------------------------- autograd
    @property
    def grad(self):
        """The accumulated gradient (a Tensor or None)."""
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got "
                                f"{type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise RuntimeError(f"assigned grad has data of a different size: the tensor has "
                                   f"shape {tuple(self.shape)}, the grad {tuple(value.shape)}")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(f"assigned grad has dtype {value.dtype}; the tensor has "
                                   f"dtype {self.dtype}")
            if value._be is not self._be:
                raise RuntimeError(f"assigned grad is on backend {value._be.name!r}; the tensor is "
                                   f"on {self._be.name!r}")
        self._grad = value

    @grad.deleter
    def grad(self):
        self._grad = None

    @property
    def data(self):
        """This tensor's data as a tensor outside the graph (shares memory; PyTorch's ``.data``)."""
        return self.detach()

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be set to a Tensor, got {type(value).__name__}")
        if value._be is not self._be:
            raise RuntimeError(f"data must stay on backend {self._be.name!r}, got one on "
                               f"{value._be.name!r}")
        self._data = value._data

    @property
    def requires_grad(self):
        return self._node is not None

    @requires_grad.setter
    def requires_grad(self, flag):
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad=True):
        if not isinstance(requires_grad, bool):
            raise TypeError(f"requires_grad_ expected a bool, got {type(requires_grad).__name__}")
        n = self._node
        if n is not None and n.__class__ is not _AccumulateGrad:
            if not requires_grad:
                raise RuntimeError("you can only change requires_grad flags of leaf variables. If you "
                                   "want to use a computed variable in a subgraph that doesn't require "
                                   "differentiation use var_no_grad = var.detach().")
            return self
        if requires_grad:
            dt = self.dtype
            if not (dt.is_floating_point or dt.is_complex):
                raise RuntimeError(f"only tensors of floating point or complex dtype can require "
                                   f"gradients, got dtype {dt}")
            if n is None:
                acc = self.__dict__.get("_acc")
                if acc is None:
                    acc = self.__dict__["_acc"] = _AccumulateGrad(weakref.ref(self), self._be)
                self._node = acc
        else:
            self._node = None
        return self

    @property
    def is_leaf(self):
        n = self._node
        return n is None or n.__class__ is _AccumulateGrad

    @property
    def grad_fn(self):
        n = self._node
        if n is None or n.__class__ is _AccumulateGrad:
            return None
        return n[0] if n.__class__ is tuple else n

    @property
    def output_nr(self):
        return self._oidx

    def retain_grad(self):
        """Keep this non-leaf tensor's gradient in ``.grad`` during backward."""
        n = self._node
        if n is None:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if n.__class__ is _AccumulateGrad or self._retains_grad:
            return
        node, idx = (n if n.__class__ is tuple else (n, 0))
        if node._retain is None:
            node._retain = {}
        node._retain[idx] = weakref.ref(self)
        node._hooked = True
        self._retains_grad = True

    @property
    def retains_grad(self):
        return self._retains_grad

    def register_hook(self, hook):
        """``hook(grad) -> Tensor or None`` runs when this tensor's gradient is computed."""
        from .autograd.hooks import RemovableHandle
        n = self._node
        if n is None:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        node, idx = (n if n.__class__ is tuple else (n, 0))
        if node._pre_hooks is None:
            node._pre_hooks = {}
        node._hooked = True
        return RemovableHandle(node._pre_hooks.setdefault(idx, {}), hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate the gradient of this tensor into ``.grad`` of the leaves."""
        from .autograd import backward as _backward
        _backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph,
                  inputs=inputs)

    def detach(self):
        """A tensor sharing this one's data, cut from the graph."""
        t = Tensor._make(self._writable_data(), self._be, None)    # so writes reach both
        t._base = self._base if self._base is not None else self
        return t

    def _writable_data(self):
        """The data as an array that accepts writes (NumPy gives 0-d results as immutable
        scalars: those become 0-d arrays here, once)."""
        d = self._data
        if not d.shape:
            d = self._data = self._be.writable(d)
        return d

    def detach_(self):
        if self._base is not None and self._view_ops:
            raise RuntimeError("detach_() on a view is not allowed; use detach()")
        self._node = None
        return self

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
        if self._be.device.type != "cpu":
            if not force:
                raise TypeError(f"can't convert a {self._be.device} tensor to numpy; use .cpu() "
                                f"first (or numpy(force=True) to copy)")
        return self._be.to_host(self._data)

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

    def __hash__(self):
        return id(self)

    def __array_namespace__(self, api_version=None):
        import interop
        if api_version is not None and api_version not in ("2023.12", "2024.12", "2025.12"):
            raise ValueError(f"interop implements Array API version 2025.12 (also accepts 2023.12 "
                             f"and 2024.12), got api_version={api_version!r}")
        return interop

    def __repr__(self):
        body = self._be.format(self._data, prefix="tensor(")
        extras = []
        dt = self.dtype
        if self.numel() == 0 and self._data.ndim != 1:
            extras.append(f"size={tuple(self.shape)}")
        if dt not in (_dt.float32, _dt.int64, _dt.bool, _dt.complex64) or self.numel() == 0 and dt is not _dt.float32:
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
                        "(safetensors) or pass data through DLPack")

    def __copy__(self):
        raise TypeError("use Tensor.clone() or Tensor.detach() to copy a tensor")

    def __deepcopy__(self, memo):
        if self._node is not None and not self.is_leaf:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support "
                               "the deepcopy protocol at the moment")
        t = self.detach().clone()
        t._base = None
        if self._node is not None:
            t.requires_grad_(True)
        if self.grad is not None:
            t.grad = self.grad.detach().clone()
        memo[id(self)] = t
        return t


_new = object.__new__


class Size(tuple):
    """``tensor.shape``: a tuple, printed as PyTorch prints it."""

    __slots__ = ()

    def __repr__(self):
        return f"interop.Size({list(self)})"

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n


def _norm_dim(dim, ndim, who="dim"):
    """Normalize a possibly negative ``dim`` for a tensor of ``ndim`` dims."""
    try:
        d = dim.__index__()
    except AttributeError:
        raise TypeError(f"{who}: dim must be an int, got {type(dim).__name__} {dim!r}") from None
    n = ndim if ndim > 0 else 1
    if not -n <= d < n:
        raise IndexError(f"{who}: dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return d + n if d < 0 else d


_graph.Tensor = Tensor
