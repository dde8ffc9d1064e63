"""Casts, copies and moves: ``astype``, ``clone``, ``Tensor.to`` and its shorthands."""

from .. import dtypes as _dt
from .._dtype_rules import dtype_arg, interop_dtype
from ..autograd.graph import Node
from ..autograd.grad_mode import state as grad_state
from ..autograd.variable import Variable, record
from ..backends import backend_for

__all__ = ["astype", "clone", "to", "move"]


class AstypeBackward(Node):
    """The gradient returns in the input's dtype; a real input cast to complex gets the real
    part (PyTorch's convention)."""
    __slots__ = ("dtype", "real")

    def backward(self, xp, g, s):
        if self.real:
            g = xp.real(g)
        return xp.astype(g, self.dtype),


def astype(x, dtype, /, *, copy=True, device=None):
    """``x`` cast to ``dtype`` (a copy unless ``copy=False`` and nothing changes); a
    cast between floating dtypes is differentiable."""
    be = x._be
    nd = dtype_arg(be, dtype)
    if device is not None:
        x = to(x, device=device)
        be = x._be
    if x._data.dtype == nd and not copy:
        return x
    data = be.xp.astype(x._data, nd, copy=copy) if copy is not True else be.xp.astype(x._data, nd)
    node = None
    if x._node is not None and grad_state.enabled:
        target = be.dtype_of(data)
        if target.is_floating_point or target.is_complex:
            if be.dtype_of(x._data).is_complex and not target.is_complex:
                raise RuntimeError(f"astype: casting complex to {target} discards the imaginary part "
                                   f"and is not differentiable; use .real")
            node = record(AstypeBackward, be, (x,))
            node.dtype = x._data.dtype
            node.real = target.is_complex and not be.dtype_of(x._data).is_complex
    return x._make(data, be, node)


class CloneBackward(Node):
    __slots__ = ()

    def backward(self, xp, g, s):
        return g,


def clone(x):
    data = x._be.xp.asarray(x._data, copy=True)
    node = record(CloneBackward, x._be, (x,)) if x._node is not None and grad_state.enabled else None
    return x._make(data, x._be, node)


class ToBackward(Node):
    """The gradient of a move between backends/devices moves back."""
    __slots__ = ("src",)

    def backward(self, xp, g, s):
        if isinstance(g, Variable):
            return move(g, self.src),
        return _move_array(g, self.be, self.src),


def _move_array(arr, from_be, to_be):
    return to_be.from_host(from_be.to_host(arr))


def move(x, be):
    """``x`` on backend ``be`` (a copy through the host; differentiable)."""
    data = _move_array(x._data, x._be, be)
    node = None
    if x._node is not None and grad_state.enabled:
        node = record(ToBackward, be, (x,))
        node.src = x._be
    return x._make(data, be, node)


def to(x, *args, dtype=None, device=None, copy=False, non_blocking=False):
    """``to(dtype)``, ``to(device)``, ``to(other)``, ``to(device, dtype)``."""
    for a in args:
        if isinstance(a, _dt.dtype):
            dtype = a
        elif isinstance(a, Variable):
            dtype, device = a._be.dtype_of(a._data), a._be
        else:
            device = a
    out = x
    if device is not None:
        be = backend_for(device)
        if be is not x._be:
            out = move(out, be)
    if dtype is not None:
        dt = interop_dtype(out._be, dtype)
        if out._be.dtype_of(out._data) is not dt:
            out = astype(out, dt)
    if copy and out is x:
        out = clone(x)
    return out


# PyTorch's legacy tensor type names (``x.type()``, ``torch.LongTensor``), by dtype.
TYPE_NAMES = {_dt.float32: "FloatTensor", _dt.float64: "DoubleTensor",
              _dt.float16: "HalfTensor", _dt.bfloat16: "BFloat16Tensor",
              _dt.uint8: "ByteTensor", _dt.int8: "CharTensor", _dt.int16: "ShortTensor",
              _dt.int32: "IntTensor", _dt.int64: "LongTensor", _dt.bool: "BoolTensor",
              _dt.complex64: "ComplexFloatTensor", _dt.complex128: "ComplexDoubleTensor"}
_BY_TYPE_NAME = {v: k for k, v in TYPE_NAMES.items()}


def _type_from_name(name):
    """The dtype of a type name: ``"torch.LongTensor"``, ``"interop.LongTensor"`` (a
    ``cuda.`` part is refused: moving is explicit, with ``.to``)."""
    for prefix in ("torch.", "interop."):
        if name.startswith(prefix):
            short = name[len(prefix):]
            if short in _BY_TYPE_NAME:
                return _BY_TYPE_NAME[short]
            if short.startswith("cuda."):
                raise ValueError(f"type: {name!r} names a device too; move tensors with "
                                 f".to('cuda') or .cuda(), and give type() the dtype's name "
                                 f"(e.g. 'torch.{short[5:]}')")
    raise ValueError(f"type: invalid type {name!r}; expected one of "
                     f"{', '.join('torch.' + n for n in _BY_TYPE_NAME)}")


class ConversionMethods:
    """Tensor methods that cast, copy or move the tensor."""

    __slots__ = ()

    def astype(self, dtype, *, copy=True):
        return astype(self, dtype, copy=copy)

    def to(self, *args, dtype=None, device=None, copy=False, non_blocking=False):
        return to(self, *args, dtype=dtype, device=device, copy=copy, non_blocking=non_blocking)

    def cpu(self):
        return to(self, "cpu")

    def to_device(self, device, /, *, stream=None):
        """The standard's ``to_device``: this tensor on ``device`` (itself if already there;
        differentiable)."""
        return to(self, device=device)

    def cuda(self, device=None, non_blocking=False):
        if isinstance(device, str):
            return to(self, device)
        return to(self, f"cuda:{0 if device is None else int(device)}")

    def type_as(self, other):
        return astype(self, other._be.dtype_of(other._data), copy=False)

    def float(self):
        return astype(self, _dt.float32, copy=False)

    def double(self):
        return astype(self, _dt.float64, copy=False)

    def half(self):
        return astype(self, _dt.float16, copy=False)

    def int(self):
        return astype(self, _dt.int32, copy=False)

    def long(self):
        return astype(self, _dt.int64, copy=False)

    def short(self):
        return astype(self, _dt.int16, copy=False)

    def bool(self):
        return astype(self, _dt.bool, copy=False)

    def type(self, dtype=None, non_blocking=False):
        """With no argument, PyTorch's name of this tensor's type (``"torch.FloatTensor"``,
        ``"torch.cuda.LongTensor"`` on a GPU), so that a ported comparison holds; with a
        dtype, a type name (``"torch.LongTensor"`` or ``"interop.LongTensor"``) or a type
        class (``interop.LongTensor``), this tensor cast to it (itself if it has it)."""
        be = self._be
        if dtype is None:
            name = TYPE_NAMES.get(be.dtype_of(self._data))
            if name is None:
                raise TypeError(f"type: PyTorch has no tensor type name for dtype "
                                f"{be.dtype_of(self._data)}")
            return ("torch.cuda." if be.device.type == "cuda" else "torch.") + name
        if isinstance(dtype, str):
            target = _type_from_name(dtype)
        elif isinstance(getattr(dtype, "dtype", None), _dt.dtype) and isinstance(dtype, type):
            target = dtype.dtype                 # interop.LongTensor and friends
        else:
            target = dtype
        return astype(self, target, copy=False)

    def clone(self):
        return clone(self)
