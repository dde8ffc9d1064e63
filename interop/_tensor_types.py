"""PyTorch's legacy typed constructors: ``interop.LongTensor([1, 2])``, ``FloatTensor(2, 3)``,
``isinstance(x, interop.LongTensor)``.

Each is a class whose call makes a plain :class:`~interop.Tensor` of its dtype, as
PyTorch's: from data (``LongTensor([1.5, 2])`` truncates to ``[1, 2]``), from sizes
(``FloatTensor(2, 3)``: uninitialized, as ``empty``), or empty (``FloatTensor()``); from a
tensor, the tensor itself when it has the dtype. ``isinstance(x, interop.LongTensor)`` asks
for a tensor of dtype int64 (on any backend). ``x.type(interop.LongTensor)`` casts.
"""

from . import dtypes as _dt
from ._ops.cast import TYPE_NAMES, astype
from ._creation import empty, tensor
from ._tensor import Size, Tensor

__all__ = ["FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor", "ByteTensor",
           "CharTensor", "ShortTensor", "IntTensor", "LongTensor", "BoolTensor"]


class _TensorType(type):
    """The metaclass of the typed constructors (PyTorch's ``torch.LongTensor`` and kin)."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype is cls.dtype

    def __call__(cls, *args, device=None):
        dt = cls.dtype
        if not args:
            return empty(0, dtype=dt, device=device)
        if all(isinstance(a, int) and not isinstance(a, bool) for a in args):
            return empty(*args, dtype=dt, device=device)
        if len(args) == 1 and isinstance(args[0], Size):
            return empty(*args[0], dtype=dt, device=device)
        if len(args) != 1:
            raise TypeError(f"{cls.__name__}: expected sizes (ints) or one sequence of data, got "
                            f"{len(args)} arguments")
        data = args[0]
        if isinstance(data, Tensor):
            if data.dtype is not dt:
                raise TypeError(f"{cls.__name__}: expected a tensor of dtype {dt}, got "
                                f"{data.dtype}; cast it with .to({dt}) or .type({cls.__name__})")
            return data
        if isinstance(data, (int, float, bool, complex)):
            raise TypeError(f"{cls.__name__}: expected sizes or a sequence of data, got a "
                            f"{type(data).__name__}; write {cls.__name__}([{data!r}])")
        out = tensor(data, device=device)
        return out if out.dtype is dt else astype(out, dt)

    def __repr__(cls):
        return f"<class 'interop.{cls.__name__}'>"


def _make(dtype):
    return _TensorType(TYPE_NAMES[dtype], (), {"dtype": dtype, "__slots__": (),
                                               "__doc__": f"Tensors of dtype {dtype} (PyTorch's "
                                                          f"legacy constructor)."})


FloatTensor = _make(_dt.float32)
DoubleTensor = _make(_dt.float64)
HalfTensor = _make(_dt.float16)
BFloat16Tensor = _make(_dt.bfloat16)
ByteTensor = _make(_dt.uint8)
CharTensor = _make(_dt.int8)
ShortTensor = _make(_dt.int16)
IntTensor = _make(_dt.int32)
LongTensor = _make(_dt.int64)
BoolTensor = _make(_dt.bool)
