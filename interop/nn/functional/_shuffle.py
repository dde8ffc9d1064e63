"""Channel/space rearrangements: ``pixel_shuffle``, ``pixel_unshuffle`` and
``channel_shuffle`` (a reshape, a permutation and a reshape each: views and one copy,
differentiable as written)."""

import interop as it
from . import _checks as check

__all__ = ["pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "native_channel_shuffle"]


# ------------------------------------------------------------------------- rearrangements

def _arguments(op, input, name, v):
    """The checks the three share: ``input`` a Tensor of 3 or more dims, and ``v`` (the
    factor or the groups, called ``name``) a positive int, which is returned."""
    check.tensor(op, "input", input)
    if isinstance(v, bool) or not hasattr(v, "__index__"):
        raise TypeError(f"{op}: {name} must be an int, got {type(v).__name__} {v!r}")
    v = v.__index__()
    if v <= 0:
        raise it.ArgumentError(f"{op}: expects a positive {name}, but got {v}")
    if input.ndim < 3:
        raise it.ShapeError(f"{op}: expects input to have at least 3 dimensions, but got input "
                            f"with {input.ndim} dimension(s) (shape {tuple(input.shape)})")
    return v


def pixel_shuffle(input, upscale_factor):
    """``(*, C r^2, H, W)`` -> ``(*, C, H r, W r)``: each group of ``r^2`` channels becomes
    an ``r x r`` block of pixels (sub-pixel convolution's upscale)."""
    r = _arguments("pixel_shuffle", input, "upscale_factor", upscale_factor)
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise it.ShapeError(f"pixel_shuffle: expects its input's 'channel' dimension to be "
                            f"divisible by the square of upscale_factor, but input.size(-3)={c} "
                            f"is not divisible by {r * r}")
    nl = len(lead)
    x = input.reshape((*lead, c // (r * r), r, r, h, w))
    x = x.permute(*range(nl), nl, nl + 3, nl + 1, nl + 4, nl + 2)
    return x.reshape((*lead, c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor):
    """``(*, C, H r, W r)`` -> ``(*, C r^2, H, W)``: the inverse of :func:`pixel_shuffle`."""
    r = _arguments("pixel_unshuffle", input, "downscale_factor", downscale_factor)
    *lead, c, h, w = input.shape
    if h % r or w % r:
        raise it.ShapeError(f"pixel_unshuffle: expects height and width of input to be divisible "
                            f"by downscale_factor, but input.size(-2)={h} and input.size(-1)={w} "
                            f"are not both divisible by {r}")
    nl = len(lead)
    x = input.reshape((*lead, c, h // r, r, w // r, r))
    x = x.permute(*range(nl), nl, nl + 2, nl + 4, nl + 1, nl + 3)
    return x.reshape((*lead, c * r * r, h // r, w // r))


def channel_shuffle(input, groups):
    """``(N, C, *)``: interleave the channels of ``groups`` groups (ShuffleNet): channel
    ``g * (C / groups) + k`` moves to ``k * groups + g``."""
    g = _arguments("channel_shuffle", input, "groups", groups)
    n, c, *rest = input.shape
    if c % g:
        raise it.ShapeError(f"channel_shuffle: number of channels must be divisible by groups. "
                            f"Got {c} channels and {g} groups.")
    x = input.reshape((n, g, c // g, *rest)).transpose(1, 2)
    return x.reshape((n, c, *rest))


native_channel_shuffle = channel_shuffle
