"""A histogram of host data with NumPy's binning rules, for the summary writers above
(interop.utils.tensorboard), which never see an array library: the counts must equal
``numpy.histogram`` (and so what ``torch.utils.tensorboard`` writes) bucket for bucket."""

import numpy as np

__all__ = ["host_histogram"]


def host_histogram(x, bins):
    """``numpy.histogram`` of the float64 data of ``x`` (a CPU array or tensor that exports
    DLPack), flattened, with ``bins`` as NumPy takes it: a number of equal bins, the name
    of one of NumPy's bin estimators ("auto", "fd", "sturges", ...) or the increasing bin
    edges. Returns plain Python values: ``(counts, edges, minimum, maximum, total,
    sum_of_squares)``, the counts as ints and the rest as floats."""
    values = np.from_dlpack(x).reshape(-1)
    if values.dtype != np.float64:
        raise TypeError(f"host_histogram: expected float64 data, got {values.dtype}")
    counts, edges = np.histogram(values, bins=bins)
    return (counts.tolist(), edges.tolist(), float(values.min()), float(values.max()),
            float(values.sum()), float(values.dot(values)))
