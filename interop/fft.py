"""``interop.fft``: the standard's FFT extension, with gradients, and PyTorch's spellings
of it (``torch.fft.fft(x, n, dim, norm)``: ``n``/``s``, ``dim`` and ``norm`` positional,
``norm=None``): the two agree on every result, so this module is both ``interop.fft`` and
``interop.array_api.fft``.

The complex-to-complex transforms (``fft``, ``ifft``, ``fftn``, ``ifftn``) run in the
backend's ``fft`` and record one node: the transform is linear, so its gradient is the
adjoint transform, ``conj(F(conj(g)))`` with the same normalization, cut or zero-padded back
to the input's length. The real transforms are built from those and differentiable ops
(``rfft`` is the first half of ``fft``, ``irfft`` the real part of ``ifft`` of the
Hermitian-extended spectrum, ``hfft``/``ihfft`` the conjugate pair), so their gradients
follow, to any order. A real input to ``fft`` is promoted to complex (PyTorch's rule; the
gradient returns as its real part).
"""

from ._args import norm_dims
from ._ops.cast import astype
from ._creation import arange, zeros
from ._ops.binary import multiply
from ._ops.indexing import getitem
from ._ops.flip import flip
from ._ops.join import concat
from ._ops.rearrange import roll
from ._ops.unary import conj, real
from .autograd.graph import Node
from .autograd.grad_mode import state as grad_state
from .autograd.variable import Variable, record
from .backends import backend_for

__all__ = ["fft", "ifft", "fftn", "ifftn", "rfft", "irfft", "rfftn", "irfftn", "hfft", "ihfft",
           "fftfreq", "rfftfreq", "fftshift", "ifftshift"]

_NORMS = ("backward", "ortho", "forward")
_SWAP = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


def _spelling(op, dim, axis, default, norm):
    """The axis (or axes) from the standard's ``axis=``/``axes=`` or PyTorch's ``dim``, and
    the norm (PyTorch's None is the standard's "backward"). The two spellings never disagree
    on a result, so this one module serves ``interop.fft`` and ``interop.array_api.fft``."""
    if dim is not None:
        if axis is not None:
            raise TypeError(f"fft.{op}: got both dim={dim!r} (PyTorch's) and axis/axes="
                            f"{axis!r} (the standard's); give one")
        axis = dim
    return (default if axis is None else axis), ("backward" if norm is None else norm)


def _check(x, op, norm):
    if not isinstance(x, Variable):
        raise TypeError(f"fft.{op}: expected a Tensor, got {type(x).__name__}")
    if norm not in _NORMS:
        raise ValueError(f"fft.{op}: norm must be 'backward', 'ortho' or 'forward', got {norm!r}")
    if x._data.ndim == 0:
        raise ValueError(f"fft.{op}: expected a tensor of at least 1 dim, got a 0-d one")


def _complex(x, op):
    dt = x.dtype
    if dt.is_complex:
        return x
    if dt.is_floating_point:
        return astype(x, dt.to_complex())          # recorded: the gradient's real part returns
    raise TypeError(f"fft.{op}: expected a floating-point or complex tensor, got {dt}")


def _real(x, op):
    if not x.dtype.is_floating_point:
        raise TypeError(f"fft.{op}: expected a real floating-point tensor, got {x.dtype}")
    return x


def _sizes(x, s, axes, op):
    """(sizes, axes) of an n-d transform: the standard's defaults (all axes; the input's
    sizes), checked."""
    nd = x._data.ndim
    if axes is None:
        axes = tuple(range(nd)) if s is None else tuple(range(nd - len(s), nd))
    else:
        axes = tuple(norm_dims(tuple(axes), nd, f"fft.{op}"))
    if s is None:
        s = tuple(x._data.shape[a] for a in axes)
    s = tuple(s)
    if len(s) != len(axes):
        raise ValueError(f"fft.{op}: s {s} and axes {axes} differ in length")
    for n in s:
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"fft.{op}: transform sizes must be positive ints, got {s}")
    return s, axes


class FFTBackward(Node):
    """The adjoint of a complex-to-complex transform over ``axes`` of sizes ``s``."""
    __slots__ = ("inverse", "s", "axes", "norm", "in_sizes")

    def backward(self, xp, g, saved):
        f = xp.fft.ifftn if self.inverse else xp.fft.fftn
        r = xp.conj(f(xp.conj(g), axes=self.axes, norm=self.norm))
        for ax, n, m in zip(self.axes, self.s, self.in_sizes):
            if n > m:                                    # the input was zero-padded: cut
                r = r[(slice(None),) * ax + (slice(0, m), Ellipsis)]
            elif n < m:                                  # the input was cut: zeros beyond
                shape = list(r.shape)
                shape[ax] = m - n
                r = xp.concat([r, xp.zeros(tuple(shape), dtype=r.dtype)], axis=ax)
        return r,


def _c2c(x, s, axes, norm, inverse, op):
    _check(x, op, norm)
    x = _complex(x, op)
    s, axes = _sizes(x, s, axes, op)
    fl = x._be.xp.fft
    data = (fl.ifftn if inverse else fl.fftn)(x._data, s=s, axes=axes, norm=norm)
    if x._node is None or not grad_state.enabled:
        return x._make(data, x._be, None)
    node = record(FFTBackward, x._be, (x,))
    node.inverse, node.s, node.axes, node.norm = inverse, s, axes, norm
    node.in_sizes = tuple(x._data.shape[a] for a in axes)
    return x._make(data, x._be, node)


def _one(n, axis):
    return (None if n is None else (n,)), (axis,)


def fft(x, /, n=None, dim=None, norm="backward", *, axis=None):
    """The 1-d discrete Fourier transform along ``axis`` (cut or zero-padded to ``n``)."""
    axis, norm = _spelling("fft", dim, axis, -1, norm)
    s, axes = _one(n, axis)
    return _c2c(x, s, axes, norm, False, "fft")


def ifft(x, /, n=None, dim=None, norm="backward", *, axis=None):
    """The 1-d inverse discrete Fourier transform along ``axis``."""
    axis, norm = _spelling("ifft", dim, axis, -1, norm)
    s, axes = _one(n, axis)
    return _c2c(x, s, axes, norm, True, "ifft")


def fftn(x, /, s=None, dim=None, norm="backward", *, axes=None):
    """The n-d discrete Fourier transform over ``axes`` (sizes ``s``)."""
    axes, norm = _spelling("fftn", dim, axes, None, norm)
    return _c2c(x, s, axes, norm, False, "fftn")


def ifftn(x, /, s=None, dim=None, norm="backward", *, axes=None):
    """The n-d inverse discrete Fourier transform over ``axes`` (sizes ``s``)."""
    axes, norm = _spelling("ifftn", dim, axes, None, norm)
    return _c2c(x, s, axes, norm, True, "ifftn")


def _take(x, axis, stop):
    ax = axis % x._data.ndim
    return getitem(x, (slice(None),) * ax + (slice(0, stop),))


def rfft(x, /, n=None, dim=None, norm="backward", *, axis=None):
    """The 1-d transform of a real signal: the ``n // 2 + 1`` non-negative frequencies."""
    axis, norm = _spelling("rfft", dim, axis, -1, norm)
    _check(x, "rfft", norm)
    _real(x, "rfft")
    full = fft(x, n=n, axis=axis, norm=norm)
    return _take(full, axis, full._data.shape[axis] // 2 + 1)


def rfftn(x, /, s=None, dim=None, norm="backward", *, axes=None):
    """The n-d transform of a real signal; the last axis keeps ``s[-1] // 2 + 1`` entries."""
    axes, norm = _spelling("rfftn", dim, axes, None, norm)
    _check(x, "rfftn", norm)
    _real(x, "rfftn")
    s, axes = _sizes(x, s, axes, "rfftn")
    full = fftn(x, s=s, axes=axes, norm=norm)
    return _take(full, axes[-1], s[-1] // 2 + 1)


def _hermitian(x, axis, m):
    """The full length-``m`` spectrum along ``axis`` whose first ``m // 2 + 1`` entries are
    ``x``'s (cut or zero-padded), the rest their mirrored conjugates."""
    ax = axis % x._data.ndim
    half = m // 2 + 1
    have = x._data.shape[ax]
    if have > half:
        x = _take(x, ax, half)
    elif have < half:
        shape = list(x._data.shape)
        shape[ax] = half - have
        x = concat([x, zeros(tuple(shape), dtype=x.dtype, device=x._be)], axis=ax)
    tail = getitem(x, (slice(None),) * ax + (slice(1, (m + 1) // 2),))
    return concat([x, conj(flip(tail, axis=(ax,)))], axis=ax)


def irfft(x, /, n=None, dim=None, norm="backward", *, axis=None):
    """The inverse of ``rfft``: a real signal of length ``n`` (default ``2 * (len - 1)``)."""
    axis, norm = _spelling("irfft", dim, axis, -1, norm)
    _check(x, "irfft", norm)
    x = _complex(x, "irfft")
    m = 2 * (x._data.shape[axis] - 1) if n is None else n
    if isinstance(m, bool) or not isinstance(m, int) or m < 1:
        raise ValueError(f"fft.irfft: the output length must be a positive int, got {m!r}")
    return real(ifft(_hermitian(x, axis, m), axis=axis, norm=norm))


def irfftn(x, /, s=None, dim=None, norm="backward", *, axes=None):
    """The inverse of ``rfftn``: a real signal of sizes ``s`` over ``axes``."""
    axes, norm = _spelling("irfftn", dim, axes, None, norm)
    _check(x, "irfftn", norm)
    x = _complex(x, "irfftn")
    given = s
    s, axes = _sizes(x, s, axes, "irfftn")
    if given is None:                  # the last axis holds half a spectrum
        s = s[:-1] + (2 * (s[-1] - 1),)
    if len(axes) > 1:
        x = ifftn(x, s=s[:-1], axes=axes[:-1], norm=norm)
    return irfft(x, n=s[-1], axis=axes[-1], norm=norm)


def hfft(x, /, n=None, dim=None, norm="backward", *, axis=None):
    """The transform of a signal with Hermitian symmetry (given by its first half): real."""
    axis, norm = _spelling("hfft", dim, axis, -1, norm)
    _check(x, "hfft", norm)
    return irfft(conj(_complex(x, "hfft")), n=n, axis=axis, norm=_SWAP[norm])


def ihfft(x, /, n=None, dim=None, norm="backward", *, axis=None):
    """The inverse of ``hfft``: the first half of a Hermitian spectrum, from a real signal."""
    axis, norm = _spelling("ihfft", dim, axis, -1, norm)
    _check(x, "ihfft", norm)
    return conj(rfft(x, n=n, axis=axis, norm=_SWAP[norm]))


def _freq_args(n, d, op):
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"fft.{op}: n must be a positive int, got {n!r}")
    if isinstance(d, bool) or not isinstance(d, (int, float)) or d == 0:
        raise ValueError(f"fft.{op}: d must be a nonzero real number, got {d!r}")


def _freq_dtype(dtype, device):
    if dtype is None:
        return backend_for(device).default_float
    return dtype


def fftfreq(n, /, d=1.0, *, dtype=None, device=None):
    """The sample frequencies of an ``n``-point transform with sample spacing ``d``:
    ``[0, 1, ..., (n - 1) // 2, -(n // 2), ..., -1] / (d * n)``."""
    _freq_args(n, d, "fftfreq")
    dt = _freq_dtype(dtype, device)
    k = arange(n, device=device)
    k = k - (k >= (n + 1) // 2) * n
    return multiply(astype(k, dt), 1.0 / (d * n))


def rfftfreq(n, /, d=1.0, *, dtype=None, device=None):
    """The non-negative sample frequencies of an ``n``-point real transform:
    ``[0, 1, ..., n // 2] / (d * n)``."""
    _freq_args(n, d, "rfftfreq")
    dt = _freq_dtype(dtype, device)
    return multiply(astype(arange(n // 2 + 1, device=device), dt), 1.0 / (d * n))


def _shift(x, axes, sign, op):
    if not isinstance(x, Variable):
        raise TypeError(f"fft.{op}: expected a Tensor, got {type(x).__name__}")
    nd = x._data.ndim
    axes = tuple(range(nd)) if axes is None else tuple(norm_dims(
        (axes,) if isinstance(axes, int) else tuple(axes), nd, f"fft.{op}"))
    if not axes:
        return x
    shifts = tuple(sign * (x._data.shape[a] // 2) for a in axes)
    return roll(x, shifts, axes)


def fftshift(x, /, dim=None, *, axes=None):
    """``x`` rolled so that the zero frequency is in the middle (all axes by default)."""
    axes, _ = _spelling("fftshift", dim, axes, None, "backward")
    return _shift(x, axes, 1, "fftshift")


def ifftshift(x, /, dim=None, *, axes=None):
    """The inverse of ``fftshift``."""
    axes, _ = _spelling("ifftshift", dim, axes, None, "backward")
    return _shift(x, axes, -1, "ifftshift")
