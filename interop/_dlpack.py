"""``Tensor.__dlpack__`` and ``Tensor.__dlpack_device__``: tensors as DLPack producers.

What a consumer gets is the backend's own capsule of the tensor's memory (zero-copy), with
the standard's keywords. interop refuses what PyTorch refuses (a tensor that requires grad)
and never hands out a layout a consumer could crash on (see ``Backend.to_dlpack``).
"""

__all__ = ["DLPackMethods"]


class DLPackMethods:
    """The DLPack producer protocol of the Array API standard."""

    __slots__ = ()

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        """A DLPack capsule of this tensor's memory: versioned when ``max_version`` allows
        (1, x), legacy otherwise; ``copy=True`` exports a copy, ``copy=False`` a view or a
        BufferError saying why not. A tensor that requires grad is refused: export
        ``t.detach()``."""
        if self._node is not None:
            raise BufferError("Can't export a tensor that requires grad through DLPack: the "
                              "consumer would write under autograd's feet; use "
                              "tensor.detach() (it shares the memory)")
        if copy is not None and copy is not True and copy is not False:
            raise ValueError(f"__dlpack__: copy must be None, True or False, got {copy!r}")
        if max_version is not None and not (isinstance(max_version, tuple) and len(max_version) == 2):
            raise TypeError(f"__dlpack__: max_version must be a (major, minor) tuple or None, "
                            f"got {max_version!r}")
        return self._be.to_dlpack(self._data, stream=stream, max_version=max_version,
                                  dl_device=dl_device, copy=copy)

    def __dlpack_device__(self):
        """``(device type, index)`` as DLPack codes: ``(1, 0)`` on the CPU, ``(2, N)`` on
        CUDA GPU N."""
        return self._be.dlpack_device(self._data)
