"""Text form of array data for ``repr(tensor)``, in PyTorch's layout."""

import numpy as np


def format_array(a, *, prefix="tensor(", threshold=1000, edgeitems=3, precision=4):
    """Format host array ``a`` as PyTorch prints a tensor's values (no suffix)."""
    kwargs = dict(separator=", ", prefix=prefix, threshold=threshold, edgeitems=edgeitems,
                  max_line_width=80)
    if a.dtype.kind in "fc":
        if a.dtype.itemsize < 4:       # float16: the checks below compare with 1e8 (overflow)
            a = a.astype(np.float32)
        finite = a[np.isfinite(a)] if a.size else a
        if finite.size and np.all(finite == np.round(finite)) and np.all(np.abs(finite) < 1e8):
            kwargs["formatter"] = {"float_kind": lambda v: _int_float(v)}
        else:
            amax = np.max(np.abs(finite)) if finite.size else 0.0
            amin = np.min(np.abs(finite[finite != 0])) if np.any(finite != 0) else 0.0
            sci = amax >= 1e8 or (amin and amin < 1e-4) or (amin and amax / amin > 1e5)
            kwargs["precision"] = precision
            kwargs["floatmode"] = "fixed"
            kwargs["suppress_small"] = not sci
            if sci:
                kwargs["formatter"] = {"float_kind": lambda v: f"{v:.{precision}e}"}
    return np.array2string(a, **kwargs)


def _int_float(v):
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:.0f}."
