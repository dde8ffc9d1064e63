"""DLPack capsules read with ctypes: the device, layout and flags a producer put in one.

interop hands capsules between libraries and must not pass one on blindly: torch aborts
the whole process on a capsule with negative strides, and only torch accepts a raw capsule
as input (NumPy and array-api-strict want an object with ``__dlpack__``). The structs are
those of dlpack.h (v0.8 legacy ``DLManagedTensor`` and v1 ``DLManagedTensorVersioned``).
"""

import ctypes

__all__ = ["CPU", "CUDA", "CUDA_HOST", "CUDA_MANAGED", "DEVICE_NAMES", "READ_ONLY", "IS_COPIED",
           "CapsuleInfo", "capsule_info", "is_capsule", "CapsuleProducer", "set_dtype"]

# DLDeviceType codes
CPU, CUDA, CUDA_HOST, CUDA_MANAGED = 1, 2, 3, 13
DEVICE_NAMES = {1: "cpu", 2: "cuda", 3: "cuda_host", 4: "opencl", 7: "vulkan", 8: "metal",
                9: "vpi", 10: "rocm", 11: "rocm_host", 13: "cuda_managed", 14: "oneapi",
                15: "webgpu", 16: "hexagon", 17: "maia"}
# DLManagedTensorVersioned flags
READ_ONLY, IS_COPIED = 1, 2

_LEGACY, _VERSIONED = b"dltensor", b"dltensor_versioned"


class _DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class _DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class _DLTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device", _DLDevice), ("ndim", ctypes.c_int32),
                ("dtype", _DLDataType), ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("strides", ctypes.POINTER(ctypes.c_int64)), ("byte_offset", ctypes.c_uint64)]


class _DLManagedTensor(ctypes.Structure):
    _fields_ = [("dl_tensor", _DLTensor), ("manager_ctx", ctypes.c_void_p),
                ("deleter", ctypes.c_void_p)]


class _DLPackVersion(ctypes.Structure):
    _fields_ = [("major", ctypes.c_uint32), ("minor", ctypes.c_uint32)]


class _DLManagedTensorVersioned(ctypes.Structure):
    _fields_ = [("version", _DLPackVersion), ("manager_ctx", ctypes.c_void_p),
                ("deleter", ctypes.c_void_p), ("flags", ctypes.c_uint64),
                ("dl_tensor", _DLTensor)]


_get_name = ctypes.pythonapi.PyCapsule_GetName
_get_name.restype = ctypes.c_char_p
_get_name.argtypes = [ctypes.py_object]
_get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_get_pointer.restype = ctypes.c_void_p
_get_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]


def is_capsule(obj):
    return type(obj).__name__ == "PyCapsule"


class CapsuleInfo:
    """What a DLPack capsule holds: ``versioned``, ``version`` ((major, minor) or None),
    ``device`` ((type code, index)), ``shape``, ``strides`` (elements; None: compact
    row-major), ``dtype`` ((code, bits, lanes)), ``data`` (address), ``flags``."""

    __slots__ = ("versioned", "version", "device", "shape", "strides", "dtype", "data", "flags")

    @property
    def read_only(self):
        return bool(self.flags & READ_ONLY)

    @property
    def negative_strides(self):
        return self.strides is not None and any(s < 0 for s in self.strides)


def capsule_info(capsule):
    """A :class:`CapsuleInfo` for an unconsumed ``dltensor`` or ``dltensor_versioned``
    capsule (the capsule stays unconsumed); ValueError for anything else."""
    if not is_capsule(capsule):
        raise TypeError(f"expected a DLPack capsule (PyCapsule), got {type(capsule).__name__}")
    name = _get_name(capsule)
    info = CapsuleInfo()
    if name == _VERSIONED:
        m = _DLManagedTensorVersioned.from_address(_get_pointer(capsule, name))
        info.versioned, info.version, info.flags = True, (m.version.major, m.version.minor), m.flags
    elif name == _LEGACY:
        m = _DLManagedTensor.from_address(_get_pointer(capsule, name))
        info.versioned, info.version, info.flags = False, None, 0
    else:
        used = name is not None and name.startswith(b"used_")
        raise ValueError(f"expected an unconsumed DLPack capsule ('dltensor' or "
                         f"'dltensor_versioned'), got one named {name!r}"
                         + ("; a capsule can be consumed only once" if used else ""))
    t = m.dl_tensor
    info.device = (t.device.device_type, t.device.device_id)
    info.shape = tuple(t.shape[i] for i in range(t.ndim))
    info.strides = tuple(t.strides[i] for i in range(t.ndim)) if t.strides else None
    info.dtype = (t.dtype.code, t.dtype.bits, t.dtype.lanes)
    info.data = (t.data or 0) + t.byte_offset
    return info


def set_dtype(capsule, code, bits, lanes=1):
    """Write the dtype of the tensor an unconsumed capsule describes (``(code, bits,
    lanes)``, DLPack codes): how an exporter with no code for a dtype (NumPy and bfloat16)
    hands out the bits it holds under the right name."""
    name = _get_name(capsule)
    if name == _VERSIONED:
        t = _DLManagedTensorVersioned.from_address(_get_pointer(capsule, name)).dl_tensor
    elif name == _LEGACY:
        t = _DLManagedTensor.from_address(_get_pointer(capsule, name)).dl_tensor
    else:
        raise ValueError(f"expected an unconsumed DLPack capsule, got one named {name!r}")
    t.dtype.code, t.dtype.bits, t.dtype.lanes = code, bits, lanes


class CapsuleProducer:
    """An object with ``__dlpack__`` and ``__dlpack_device__`` around a raw capsule, so that
    consumers that take only such objects (NumPy, array-api-strict, CuPy) can import it. The
    capsule is handed out once."""

    __slots__ = ("_capsule", "_info")

    def __init__(self, capsule, info=None):
        self._info = capsule_info(capsule) if info is None else info
        self._capsule = capsule

    def __dlpack_device__(self):
        return self._info.device

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        if self._capsule is None:
            raise BufferError("this DLPack capsule was already consumed (a capsule can be "
                              "imported only once)")
        if copy:
            raise BufferError("a raw DLPack capsule cannot be exported as a copy; import it, "
                              "then copy")
        if dl_device is not None and tuple(dl_device) != self._info.device:
            raise BufferError(f"the capsule holds data on device {self._info.device}, not on the "
                              f"requested {tuple(dl_device)}")
        if self._info.versioned and (max_version is None or max_version[0] < 1):
            raise BufferError("the capsule is a versioned (DLPack 1.x) one and the consumer "
                              "takes legacy capsules only")
        capsule, self._capsule = self._capsule, None
        return capsule
