"""``set_printoptions``: how ``repr(tensor)`` prints values, PyTorch's options and profiles."""

import math

from .backends import _format

__all__ = ["set_printoptions", "get_printoptions"]

_PROFILES = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}


def _count(name, v, allow_inf=False):
    if allow_inf and v == math.inf:
        return v
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise TypeError(f"set_printoptions: {name} must be a non-negative int"
                        f"{' or math.inf' if allow_inf else ''}, got {v!r}")
    return v


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """Set how tensors print, as ``torch.set_printoptions``: ``precision`` (digits after the
    point, default 4), ``threshold`` (more elements than this are summarized with ``...``,
    default 1000), ``edgeitems`` (elements shown at each end of a summarized dim, default 3),
    ``linewidth`` (characters per line, default 80), ``profile`` (``"default"``,
    ``"short"`` or ``"full"``: all four at once; the others given override it) and
    ``sci_mode`` (True/False forces scientific notation on or off; None, which every call
    without it sets again as PyTorch's does, chooses from the values)."""
    new = {}
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: profile must be one of {sorted(_PROFILES)}, "
                             f"got {profile!r}")
        new.update(_PROFILES[profile])
    if precision is not None:
        new["precision"] = _count("precision", precision)
    if threshold is not None:
        new["threshold"] = _count("threshold", threshold, allow_inf=True)
    if edgeitems is not None:
        new["edgeitems"] = _count("edgeitems", edgeitems)
    if linewidth is not None:
        new["linewidth"] = _count("linewidth", linewidth)
    if sci_mode not in (None, True, False):
        raise TypeError(f"set_printoptions: sci_mode must be None, True or False, got "
                        f"{sci_mode!r}")
    new["sci_mode"] = sci_mode
    _format.OPTIONS.update(new)


def get_printoptions():
    """The current print options, a dict of the five fields ``set_printoptions`` takes."""
    return dict(_format.OPTIONS)
