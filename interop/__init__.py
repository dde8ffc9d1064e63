"""interop: a PyTorch-style deep-learning framework written against the Python
Array API standard, on swappable array backends (NumPy, CuPy, array-api-strict,
any standard namespace)."""

import builtins as _builtins
import importlib as _importlib

__version__ = "0.1.0"
__array_api_version__ = "2025.12"

from . import dtypes
from .dtypes import (bool, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float16,
                     bfloat16, float32, float64, complex64, complex128)
from .dtypes import dtype, isdtype
from ._device import device
from ._errors import ShapeError, DTypeError, ArgumentError, IntegerDivisionByZero
from . import backends
from .backends import set_backend, get_backend, use_backend, register_backend, list_backends
from . import autograd
from .autograd import (no_grad, enable_grad, set_grad_enabled, inference_mode, is_grad_enabled,
                       is_inference_mode_enabled)
from ._tensor import Tensor, Size
from ._creation import (tensor, asarray, as_tensor, zeros, ones, full, empty, arange, linspace, eye,
                        zeros_like, ones_like, full_like, empty_like, from_numpy, from_dlpack,
                        meshgrid)
from ._ops.binary import (add, subtract, multiply, divide, pow, remainder, floor_divide, maximum,
                           minimum, atan2, logaddexp, hypot, copysign, nextafter, equal, not_equal, less, less_equal,
                           greater, greater_equal, logical_and, logical_or, logical_xor, bitwise_and,
                           bitwise_or, bitwise_xor, bitwise_left_shift, bitwise_right_shift, isclose,
                           allclose)
from ._ops.unary import (exp, expm1, log, log1p, log2, log10, sqrt, sin, cos, tan, tanh, sinh, cosh, asin,
                     acos, atan, asinh, acosh, atanh, reciprocal, square, abs, negative, positive,
                     sigmoid, relu, rsqrt, conj, sgn, floor, ceil, trunc, sign, round, isnan, isinf,
                     isfinite, signbit, logical_not, bitwise_invert, real, imag)
from ._ops.reduce import (sum, mean, prod, max, min, amax, amin, var, std, logsumexp, argmax, argmin, all,
                      any, cumulative_sum, cumsum, count_nonzero, softmax, log_softmax, sum_to,
                      cumulative_prod, cumprod)
from ._ops.views import (reshape, view, flatten, unflatten, permute_dims, permute, transpose, swapaxes,
                     matrix_transpose, t, moveaxis, movedim, squeeze, unsqueeze, expand_dims,
                     broadcast_to, expand, broadcast_arrays, contiguous)
from ._ops.cast import astype, clone
from ._ops.flip import flip
from ._ops.join import concat, cat, concatenate, stack, split, chunk, unbind, unstack
from ._ops.select import where, clamp, clip, masked_fill
from ._ops.matmul import matmul, mm, bmm, dot, outer, einsum, norm, tensordot, vecdot
from ._ops.indexing import (getitem, gather, take_along_axis, scatter_add, index_add, take, index_select,
                        add_at, scatter, nonzero, windows, windows_add)
from ._ops.sorting import sort, argsort, topk
from ._ops.rearrange import (roll, tile, repeat_interleave, narrow, triu, tril, diag, diagonal)
from ._ops.compound import addcmul, addcdiv, lerp
from ._ops.mutation import setitem
from ._ops.fused import adam_update_ as _adam_update_   # (interop.optim's fused Adam step)
from .random import (Generator, manual_seed, seed, initial_seed, default_generator, rand, randn,
                     randint, randperm, rand_like, randn_like, randint_like, normal, bernoulli,
                     multinomial, get_rng_state, set_rng_state)
from . import cuda
from . import linalg
from . import fft
from ._info import __array_namespace_info__
from ._namespace import result_type, can_cast, broadcast_shapes
from ._ops.sets import (searchsorted, isin, unique_all, unique_counts, unique_inverse, unique_values,
                    diff)
from . import utils
from ._ops import binary as _binary
# PyTorch's signatures and results where they differ from the standard's (which
# interop.array_api keeps): these names replace the ones imported above.
from ._pytorch_style import (sum, prod, mean, amax, amin, all, any, logsumexp, argmax, argmin,
                             count_nonzero, max, min, var, std, cumsum, cumprod, sort, argsort,
                             equal, nonzero, where, meshgrid, flip, squeeze, take, concat, cat,
                             concatenate, stack, roll, tile, tril, triu, eye, linspace, clamp,
                             clip, sign, diff, searchsorted, isin, tensordot, arange,
                             bernoulli)
from . import array_api
# PyTorch's everyday names beyond the standard (issue 24)
from . import accelerator
from ._ops.stacks import atleast_1d, atleast_2d, atleast_3d, hstack, vstack, row_stack, column_stack, dstack
from ._ops.statistics import var_mean, std_mean, bincount, histc
from ._ops.distance import cdist
from ._ops.unique import unique, unique_consecutive, argwhere
from ._ops.inplace_twins import index_fill, index_copy, masked_scatter
from ._tensor_types import (FloatTensor, DoubleTensor, HalfTensor, BFloat16Tensor, ByteTensor,
                            CharTensor, ShortTensor, IntTensor, LongTensor, BoolTensor)
from ._printing import set_printoptions, get_printoptions
from . import _einops    # einops' backend for interop tensors, where einops is installed
from ._ops.special import erf, erfc, erfinv, logit, xlogy
from ._ops.activation import gelu, silu     # (the activation kernels' twins: nn.functional's)
from ._ops.loss import class_cross_entropy     # (its kernel's twin: nn.functional's)
from . import special
from .backends import set_num_threads, get_num_threads

# Aliases PyTorch users reach for.
sub = subtract
mul = multiply
div = divide
true_divide = divide
neg = negative
arcsin, arccos, arctan = asin, acos, atan
arcsinh, arccosh, arctanh = asinh, acosh, atanh
arctan2 = atan2
eq, ne, lt, le, gt, ge = _binary.equal, not_equal, less, less_equal, greater, greater_equal
float = float32
double = float64
half = float16
long = int64
int = int32
short = int16
cfloat = complex64
cdouble = complex128

e = 2.718281828459045
pi = 3.141592653589793
inf = _builtins.float("inf")
nan = _builtins.float("nan")
newaxis = None


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None,
            options=None, disable=False):
    """PyTorch's ``torch.compile``, without a compiler: returns ``model`` (a module or a
    function) itself, unchanged, so ported code runs as it did (no speed-up); PyTorch's
    options are accepted and have no effect. Used as ``@interop.compile(...)`` with options
    only, it returns a decorator that does the same."""
    if model is None:
        return lambda m: m
    if not callable(model):
        raise TypeError(f"compile: expected a module or a function, got {type(model).__name__}")
    return model


def is_tensor(obj):
    return isinstance(obj, Tensor)


def numel(x):
    return x.numel()


def is_floating_point(x):
    return x.dtype.is_floating_point


def is_complex(x):
    return x.dtype.is_complex


# The layers above the namespace (nn, optim, data, io) import it, so it cannot import them:
# `it.nn` loads interop.nn on first use, as `torch.nn` works after `import torch`; `it.save`
# and `it.load` come from interop.io the same way.
_UPPER_LAYERS = ("nn", "optim", "data", "io", "onnx", "distributions", "serialization",
                 "multiprocessing", "distributed")
_FROM_UPPER_LAYERS = {"save": "io", "load": "io"}


# Standard names whose PyTorch namesake means something else: only in interop.array_api.
_STANDARD_ONLY = {"repeat": "torch has no repeat function (x.repeat(...) tiles, as it.tile); the "
                            "standard's repeat is torch.repeat_interleave: use "
                            "it.repeat_interleave, or interop.array_api.repeat"}


def __getattr__(name):
    if name in _STANDARD_ONLY:
        raise AttributeError(f"module 'interop' has no attribute {name!r}: {_STANDARD_ONLY[name]}")
    if name in _UPPER_LAYERS:
        return _importlib.import_module(f"{__name__}.{name}")
    if name in _FROM_UPPER_LAYERS:
        return getattr(_importlib.import_module(f"{__name__}.{_FROM_UPPER_LAYERS[name]}"), name)
    raise AttributeError(f"module 'interop' has no attribute {name!r}")


def get_default_dtype():
    """The default floating dtype (of the current backend; ``set_default_dtype`` sets all)."""
    return get_backend().default_float


def set_default_dtype(d):
    """Make ``d`` (float16, bfloat16, float32 or float64) the dtype of new floating tensors
    on every backend: creation without ``dtype=``, Python floats, integer division; the
    default complex dtype follows (float64 -> complex128), as in PyTorch."""
    backends.set_default_float(dtypes.by_name(d) if isinstance(d, str) else d)


def finfo(type=None):
    """Limits of a floating (or complex) dtype or tensor: ``bits``, ``eps``, ``max``, ``min``,
    ``smallest_normal``/``tiny``, ``resolution``, ``dtype``; no argument: the default
    floating dtype (see :class:`interop.dtypes.finfo`)."""
    return dtypes.finfo(get_default_dtype() if type is None else type)


def iinfo(type):
    """Limits of an integer dtype or tensor: ``bits``, ``max``, ``min``, ``dtype``."""
    return dtypes.iinfo(type)

