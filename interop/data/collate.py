"""``default_collate``: a list of samples into one batch, as PyTorch's: tensors (and NumPy
arrays) are stacked along a new first dimension, Python numbers become a 1-d tensor
(float64 for floats, int64 for ints, bool for bools), strings stay a list, and dicts,
named tuples, tuples and lists are collated field by field. ``default_convert`` (used when
``batch_size=None``) only turns arrays into tensors."""

import collections.abc

import interop as it

__all__ = ["default_collate", "default_convert"]


def _is_numpy(x):
    return type(x).__module__ == "numpy" and hasattr(x, "dtype")


def _numpy_kind_ok(x, where):
    if x.dtype.kind in "USOV":
        raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                        f"dicts or lists; found {x.dtype} at {where}")


def default_collate(batch):
    """One batch out of the list of samples ``batch`` (see the module docstring)."""
    if not isinstance(batch, (list, tuple)) or not batch:
        raise TypeError(f"default_collate: expected a non-empty list of samples, got "
                        f"{type(batch).__name__}{'' if batch else ' (empty)'}")
    elem = batch[0]
    if isinstance(elem, it.Tensor):
        shapes = {tuple(b.shape) for b in batch}
        if len(shapes) > 1:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(batch[0].shape)} at entry 0 and "
                               f"{next(list(b.shape) for b in batch if tuple(b.shape) != tuple(elem.shape))}"
                               f" at another entry")
        return it.stack(batch)
    if _is_numpy(elem):
        _numpy_kind_ok(elem, "entry 0")
        if getattr(elem, "shape", None) == ():     # a NumPy scalar
            return it.asarray([b.item() for b in batch], dtype=_numpy_dtype(elem))
        return it.asarray(it.backends.stack_host(_checked_arrays(batch)),
                          dtype=_numpy_dtype(elem))
    if isinstance(elem, bool):
        return it.tensor(batch, dtype=it.bool)
    if isinstance(elem, int):
        return it.tensor(batch, dtype=it.int64)
    if isinstance(elem, float):
        return it.tensor(batch, dtype=it.float64)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        collated = {k: default_collate([d[k] for d in batch]) for k in elem}
        try:
            return type(elem)(collated)
        except TypeError:
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):      # a named tuple
        return type(elem)(*(default_collate(s) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(b) != size for b in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        out = [default_collate(s) for s in zip(*batch)]
        if isinstance(elem, tuple):
            return out
        try:
            return type(elem)(out)
        except TypeError:
            return out
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                    f"dicts or lists; found {type(elem).__name__}")


def _numpy_dtype(x):
    return it.dtypes.by_name(x.dtype.name)


def _checked_arrays(arrays):
    """``arrays``, once checked to be NumPy arrays of one shape and dtype."""
    first = arrays[0]
    for i, a in enumerate(arrays):
        if not _is_numpy(a) or a.shape != first.shape or a.dtype != first.dtype:
            raise RuntimeError(f"default_collate: entry {i} is "
                               f"{getattr(a, 'dtype', type(a).__name__)} of shape "
                               f"{getattr(a, 'shape', None)}, entry 0 {first.dtype} of shape "
                               f"{first.shape}: they cannot be stacked")
    return arrays


def default_convert(data):
    """Arrays into tensors, recursively through dicts, named tuples, tuples and lists."""
    if isinstance(data, it.Tensor):
        return data
    if _is_numpy(data):
        _numpy_kind_ok(data, "the sample")
        return it.asarray(data)
    return map_structure(data, default_convert)


def map_structure(data, fn):
    """``fn`` applied to each entry of a dict, named tuple, tuple or list (the container
    rebuilt); anything else is returned as it is."""
    if isinstance(data, collections.abc.Mapping):
        return {k: fn(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(fn(v) for v in data))
    if isinstance(data, (list, tuple)):
        return type(data)(fn(v) for v in data)
    return data
