"""The ``strict`` backend: array-api-strict, the standard and nothing else.

Every kernel is the pure-standard fallback from :class:`Backend`, so a test
suite that passes here proves interop needs nothing outside the standard.
"""

from ._base import Backend, BackendUnavailable


def make_strict_backend():
    try:
        import array_api_strict
    except ImportError as e:
        raise BackendUnavailable(
            "backend 'strict' needs the array-api-strict package, which is not installed "
            f"({e}); install it with: pip install array-api-strict") from e
    return StrictBackend(array_api_strict)


class StrictBackend(Backend):
    library = "array_api_strict"

    def __init__(self, xp):
        super().__init__("strict", xp, device="cpu")

    def strides(self, array):
        # array-api-strict exposes no layout; the NumPy array it wraps does.
        return super().strides(array._array)

    def read_only(self, array):
        return not array._array.flags.writeable

    def from_host(self, host_array, dtype=None):
        nd = None if dtype is None else self.native_dtype(dtype)
        return self.xp.asarray(host_array, dtype=nd)
