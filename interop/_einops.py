"""interop tensors in einops: ``einops.rearrange``, ``reduce``, ``repeat``, ``pack``,
``unpack`` and ``einsum`` take interop tensors and return them, gradients flowing (every
step is an interop op: reshape, permute, expand, sum...).

einops finds a backend among the subclasses of its ``AbstractBackend`` whose
``framework_name`` is an imported module, so the subclass must exist before einops looks:
it is defined here when einops is installed (einops stays optional: without it this module
defines nothing). On any backend (cpu, strict, cuda) the tensor's own backend runs the ops.
"""

from . import dtypes as _dt
from ._creation import from_numpy, arange
from ._ops.join import concat, stack
from ._ops.matmul import einsum
from ._ops.reduce import all, amax, amin, any, mean, prod, sum
from ._ops.views import expand_dims, permute_dims, reshape, broadcast_to
from ._ops.rearrange import tile
from .autograd.variable import Variable

try:
    from einops._backends import AbstractBackend as _EinopsBackend
except ImportError:           # einops is optional
    _EinopsBackend = None

__all__ = []

_REDUCTIONS = {"sum": sum, "mean": mean, "prod": prod, "max": amax, "min": amin, "all": all,
               "any": any}

if _EinopsBackend is not None:
    class EinopsBackend(_EinopsBackend):
        """einops' backend for interop tensors."""

        framework_name = "interop"

        def is_appropriate_type(self, tensor):
            return isinstance(tensor, Variable)

        def from_numpy(self, x):        # (einops' own tests)
            t = from_numpy(x)
            if t.dtype.is_floating_point:
                t.requires_grad_(True)
            return t

        def to_numpy(self, x):
            return x.detach().numpy()

        def arange(self, start, stop):
            return arange(start, stop, dtype=_dt.int64)

        def shape(self, x):
            return tuple(x.shape)

        def reshape(self, x, shape):
            return reshape(x, tuple(shape))

        def transpose(self, x, axes):
            return permute_dims(x, tuple(axes))

        def reduce(self, x, operation, axes):
            fn = _REDUCTIONS.get(operation)
            if fn is None:
                raise NotImplementedError(f"einops reduction {operation!r} on interop tensors")
            return fn(x, axis=tuple(axes))

        def stack_on_zeroth_dimension(self, tensors):
            return stack(list(tensors), axis=0)

        def add_axis(self, x, new_position):
            return expand_dims(x, axis=new_position)

        def add_axes(self, x, n_axes, pos2len):
            for pos in pos2len:
                x = expand_dims(x, axis=pos)
            shape = list(x.shape)
            for pos, length in pos2len.items():
                shape[pos] = length
            return broadcast_to(x, tuple(shape))    # a view, as torch's expand

        def tile(self, x, repeats):
            return tile(x, tuple(repeats))

        def concat(self, tensors, axis):
            return concat(list(tensors), axis=axis)

        def is_float_type(self, x):
            return x.dtype.is_floating_point

        def einsum(self, pattern, *x):
            return einsum(pattern, *x)

    __all__ = ["EinopsBackend"]
