"""The standard's inspection API: ``interop.__array_namespace_info__()``.

What the namespace can do and which devices and dtypes it has, asked of the backends: the
current backend by default, the backend of ``device=`` when one is given.
"""

from . import dtypes as _dt
from .backends import backend_for, cuda_device_count, get_backend

__all__ = ["Info", "__array_namespace_info__"]

def _matches(d, kind):
    return kind is None or _dt.isdtype(d, kind)


class Info:
    """The object ``__array_namespace_info__()`` returns."""

    __slots__ = ()

    def capabilities(self):
        """Boolean-mask indexing and functions with data-dependent output shapes (``nonzero``,
        ``unique_*``, boolean masks) are supported; tensors have no dimension limit."""
        return {"boolean indexing": True, "data-dependent shapes": True, "max dimensions": None}

    def default_device(self):
        return get_backend().device

    def default_dtypes(self, *, device=None):
        be = backend_for(device)
        return {"real floating": be.default_float, "complex floating": be.default_float.to_complex(),
                "integral": be.default_int, "indexing": be.default_int}

    def devices(self):
        """The devices tensors can be made on here: the CPU and each usable CUDA GPU."""
        return (get_backend("cpu").device,) + tuple(get_backend(f"cuda:{i}").device
                                                    for i in range(cuda_device_count()))

    def dtypes(self, *, device=None, kind=None):
        """``{name: dtype}`` of the standard's dtypes that the backend of ``device`` has, of
        ``kind`` (a kind name, a dtype, or a tuple of them; None: all). float16 and
        bfloat16, which interop has beyond the standard, are not listed."""
        be = backend_for(device)
        return {d.name: d for d in _dt.ALL_DTYPES
                if d in be.to_native and d not in _EXTRA and _matches(d, kind)}


_EXTRA = (_dt.float16, _dt.bfloat16)
_INFO = Info()


def __array_namespace_info__():
    return _INFO
