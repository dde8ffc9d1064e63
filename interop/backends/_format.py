"""Text form of array data for ``repr(tensor)``, in PyTorch's layout, under the print
options ``interop.set_printoptions`` sets (``OPTIONS``: PyTorch's ``PRINT_OPTS`` fields)."""

import sys

import numpy as np

# precision: digits after the point; threshold: more elements than this are summarized;
# edgeitems: elements kept at each end of a summarized dim; linewidth: characters a line
# holds; sci_mode: None chooses scientific notation from the values, True/False forces it.
DEFAULTS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}
OPTIONS = dict(DEFAULTS)


def format_array(a, *, prefix="tensor("):
    """Format host array ``a`` as PyTorch prints a tensor's values (no suffix)."""
    opts = OPTIONS
    precision = opts["precision"]
    threshold = opts["threshold"]
    kwargs = dict(separator=", ", prefix=prefix,
                  threshold=sys.maxsize if threshold == float("inf") else int(threshold),
                  edgeitems=opts["edgeitems"], max_line_width=opts["linewidth"])
    if a.dtype.name == "bfloat16":        # (ml_dtypes': a NumPy dtype of kind "V")
        a = a.astype(np.float32)
    if a.dtype.kind in "fc":
        if a.dtype.itemsize < 4:       # float16: the checks below compare with 1e8 (overflow)
            a = a.astype(np.float32)
        finite = a[np.isfinite(a)] if a.size else a
        forced = opts["sci_mode"]
        whole = finite.size and np.all(finite == np.round(finite))
        if forced is not True and whole and (forced is False or np.all(np.abs(finite) < 1e8)):
            # right-aligned to the widest finite nonzero element shown, as PyTorch pads them
            shown = _summarized(a, kwargs["threshold"], opts["edgeitems"]).reshape(-1)
            shown = shown[np.isfinite(shown) & (shown != 0)]
            width = max((len(_int_float(v)) for v in shown), default=0)
            kwargs["formatter"] = {"float_kind": lambda v: _int_float(v).rjust(width)}
        else:
            amax = np.max(np.abs(finite)) if finite.size else 0.0
            amin = np.min(np.abs(finite[finite != 0])) if np.any(finite != 0) else 0.0
            sci = amax >= 1e8 or (amin and amin < 1e-4) or (amin and amax / amin > 1e5)
            if forced is not None:
                sci = forced
            kwargs["precision"] = precision
            kwargs["floatmode"] = "fixed"
            kwargs["suppress_small"] = not sci
            if sci:
                shown = _summarized(a, kwargs["threshold"], opts["edgeitems"]).reshape(-1)
                shown = shown[np.isfinite(shown)]
                width = max((len(f"{v:.{precision}e}") for v in shown), default=0)
                kwargs["formatter"] = {"float_kind": lambda v: f"{v:.{precision}e}".rjust(width)}
    return np.array2string(a, **kwargs)


def _int_float(v):
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:.0f}."


def _summarized(a, threshold, edgeitems):
    """The elements a summarized print shows (all of them at or under ``threshold``)."""
    if a.size <= threshold:
        return a
    for ax in range(a.ndim):
        if a.shape[ax] > 2 * edgeitems:
            a = np.concatenate([np.take(a, range(edgeitems), axis=ax),
                                np.take(a, range(a.shape[ax] - edgeitems, a.shape[ax]), axis=ax)],
                               axis=ax)
    return a
