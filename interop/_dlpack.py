"""DLPack exchange at the tensor level, both ends: tensors as producers
(``Tensor.__dlpack__``, ``Tensor.__dlpack_device__``) and as consumers
(``Tensor._from_dlpack``, what :func:`interop.from_dlpack` runs).

What a consumer gets is the backend's own capsule of the tensor's memory (zero-copy), with
the standard's keywords. interop refuses what PyTorch refuses (a tensor that requires grad)
and never hands out a layout a consumer could crash on (see ``Backend.to_dlpack``). An
import shares the producer's memory, on the backend that serves its device.

Reading capsules and talking to array libraries is the backends' part
(``interop.backends._dlpack`` and ``Backend.to_dlpack``/``from_dlpack``);
``interop.utils.dlpack`` is PyTorch's spelling of the same (raw capsules).
"""

from ._ops.cast import move
from .backends import backend_for, get_backend
from .backends._dlpack import CPU, CUDA, CUDA_HOST, CUDA_MANAGED, DEVICE_NAMES, CapsuleProducer, \
    is_capsule

__all__ = ["DLPackMethods"]


class DLPackMethods:
    """The DLPack protocol of the Array API standard, both ends (this mixin sits below the
    Tensor class: the consumer builds its result with ``cls._make``)."""

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

    @classmethod
    def _from_dlpack(cls, x, device, copy):
        """A tensor sharing memory with ``x`` (see :func:`interop.from_dlpack`)."""
        if copy is not None and copy is not True and copy is not False:
            raise ValueError(f"from_dlpack: copy must be None, True or False, got {copy!r}")
        if is_capsule(x):
            x = CapsuleProducer(x)
        elif not (hasattr(x, "__dlpack__") and hasattr(x, "__dlpack_device__")):
            raise TypeError(f"from_dlpack: expected an object with __dlpack__ and "
                            f"__dlpack_device__ (an array of NumPy, PyTorch, JAX, CuPy...) or a "
                            f"DLPack capsule, got {type(x).__name__}")
        if device is None and not isinstance(x, CapsuleProducer):
            # The common case, data on the CPU and a CPU backend current: import straight away
            # (the consumer reads the device from the capsule and refuses another; only then is
            # the device asked for, which costs a microsecond on torch tensors).
            cur = get_backend()
            if cur.device.type == "cpu":
                try:
                    data, read_only = cur.from_dlpack(x, copy=copy)
                except (BufferError, RuntimeError, ValueError, TypeError):
                    if int(x.__dlpack_device__()[0]) in (CPU, CUDA_HOST):
                        raise
                else:
                    return _imported(cls._make(data, cur, None), read_only)
        kind, index = x.__dlpack_device__()
        src = _dlpack_source_backend(int(kind), int(index))
        target = src if device is None else backend_for(device)
        if target.device != src.device:
            if copy is False:
                raise BufferError(f"from_dlpack(copy=False): the data is on {src.device} and "
                                  f"device={target.device} was asked for; moving it needs a "
                                  f"copy")
            data, _ = src.from_dlpack(x, copy=None)
            return move(cls._make(data, src, None), target)
        data, read_only = target.from_dlpack(x, copy=copy)
        return _imported(cls._make(data, target, None), read_only)


def _dlpack_source_backend(kind, index):
    """The backend holding memory on DLPack device ``(kind, index)``: the current backend
    where it is on the CPU (so ``strict`` imports stay ``strict``), else ``cpu``; ``cuda:N``
    for CUDA GPU N."""
    if kind in (CPU, CUDA_HOST):
        cur = get_backend()
        return cur if cur.device.type == "cpu" else get_backend("cpu")
    if kind in (CUDA, CUDA_MANAGED):
        return get_backend(f"cuda:{index}")
    raise BufferError(f"from_dlpack: the data lives on DLPack device "
                      f"{DEVICE_NAMES.get(kind, f'type {kind}')}:{index}, which no interop backend "
                      f"serves (cpu and cuda are supported)")


def _imported(t, read_only):
    if read_only:
        t._readonly = ("imported through DLPack from memory its producer marks read-only, as "
                       "NumPy does for read-only arrays and for JAX's immutable ones")
    return t
