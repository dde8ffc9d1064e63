"""Section 6, DLPack exchange: round trips between interop tensors on the backend under
test and every peer installed here (NumPy, PyTorch, JAX, CuPy, cuDF), on the peer's side
of the same device.

``dlpack::PEER[export]`` and ``[import]``: the two sides share memory (a write on one side
is seen on the other where both are writable; otherwise the data pointers agree);
``[dtypes]``: every dtype both sides have round-trips exactly; ``[layouts]``: transposed,
strided, offset, 0-d and empty views; ``[read_only]``: a read-only producer gives a tensor
that refuses writes; ``[lifetime]``: the consumer outlives the producer.
A peer that is not installed, or lives on another device, is a skip that says so.
"""

import gc
import importlib

import interop as it

from ._core import Check, Mismatch, Skip

PEERS = ("numpy", "torch", "jax", "cupy", "cudf")
_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "float32", "float64",
           "complex64", "complex128")


class _Peer:
    """How to reach one peer library: import, from_dlpack, to a host list, write."""

    def __init__(self, name):
        self.name = name
        try:
            self.mod = importlib.import_module({"jax": "jax.numpy"}.get(name, name))
        except Exception as e:         # not installed (or no GPU for cupy/cudf)
            raise Skip(f"{name} is not installed here ({type(e).__name__})") from None
        self.gpu = name in ("cupy", "cudf")

    def from_dlpack(self, t):
        if self.name == "cudf":
            raise Skip("cuDF takes DLPack through cupy arrays; covered by the cupy peer")
        return self.mod.from_dlpack(t)

    def make(self, values, dtype):
        if self.name == "torch":
            return self.mod.tensor(values, dtype=getattr(self.mod, dtype))
        return self.mod.asarray(values, dtype=getattr(self.mod, dtype))

    def tolist(self, a):
        return a.tolist()

    def writable(self):
        return self.name in ("numpy", "torch", "cupy")

    def write(self, a, value):
        a[(0,) * a.ndim] = value


def _peer(ctx, name):
    peer = _Peer(name)
    gpu_backend = ctx.be.device.type == "cuda"
    if peer.gpu != gpu_backend and name != "torch":
        raise Skip(f"{name} lives on {'the GPU' if peer.gpu else 'the CPU'}; the backend "
                   f"under test is on {ctx.be.device}")
    if ctx.be.device.type not in ("cpu", "cuda"):
        raise Skip(f"the backend's device {ctx.be.device} has no DLPack peer here")
    return peer


def _tensor(ctx, values, dtype="float32"):
    return it.asarray(values, dtype=getattr(it, dtype), device=ctx.be)


def _export(ctx, name):
    peer = _peer(ctx, name)
    t = _tensor(ctx, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    a = peer.from_dlpack(t)
    if peer.tolist(a) != t.tolist():
        raise Mismatch(f"{name}.from_dlpack(tensor) has other values", expected=t.tolist(),
                       got=peer.tolist(a))
    if ctx.be.mutable:
        t[0, 0] = 42.0
        if peer.tolist(a)[0][0] != 42.0 and name == "jax" and _address(t) % 64:
            ctx.note(shared="JAX copied: the buffer is not 64-byte aligned, and JAX imports "
                            "only aligned CPU buffers without a copy (its rule)")
            return
        if peer.tolist(a)[0][0] != 42.0:
            raise Mismatch(f"a write to the interop tensor is not seen by {name}: it copied "
                           f"(DLPack promises shared memory)", expected=42.0,
                           got=peer.tolist(a)[0][0])
    elif peer.writable():
        ctx.note(shared="the backend's arrays are immutable; values checked only")


def _address(t):
    """The data address of a CPU tensor (through NumPy's view of it)."""
    import numpy
    return numpy.from_dlpack(t).__array_interface__["data"][0]


def _jax_x64():
    import jax
    return bool(jax.config.jax_enable_x64)


def _import(ctx, name):
    peer = _peer(ctx, name)
    a = peer.make([[1.0, 2.0], [3.0, 4.0]], "float32")
    t = it.from_dlpack(a)            # (lands on the current backend: the one under test)
    if t.tolist() != [[1.0, 2.0], [3.0, 4.0]]:
        raise Mismatch(f"from_dlpack({name} array) has other values",
                       expected=[[1.0, 2.0], [3.0, 4.0]], got=t.tolist())
    if peer.writable() and ctx.be.mutable:
        peer.write(a, 42.0)
        if t[0, 0].item() != 42.0:
            raise Mismatch(f"a write on the {name} side is not seen by the interop tensor: "
                           f"from_dlpack copied", expected=42.0, got=t[0, 0].item())


def _dtypes(ctx, name):
    peer = _peer(ctx, name)
    tried = []
    for d in _DTYPES:
        if getattr(it, d) not in ctx.be.to_native or not hasattr(peer.mod, d):
            continue
        if name == "jax" and d in ("int64", "float64", "complex128") and not _jax_x64():
            ctx.note(jax="64-bit dtypes skipped: JAX narrows them without JAX_ENABLE_X64=1")
            continue
        vals = [1, 0, 1] if d == "bool" else [1, 2, 3]
        t = _tensor(ctx, [bool(v) for v in vals] if d == "bool" else vals, d)
        try:
            a = peer.from_dlpack(t)
        except (TypeError, ValueError, RuntimeError, BufferError) as e:
            raise Mismatch(f"{d}: {name}.from_dlpack refused it: {e}") from None
        back = it.from_dlpack(a)
        if back.dtype != t.dtype or back.tolist() != t.tolist():
            raise Mismatch(f"{d} round trip through {name} came back as {back.dtype} "
                           f"{back.tolist()}", expected=f"{d} {t.tolist()}",
                           got=f"{back.dtype} {back.tolist()}")
        tried.append(d)
    ctx.note(dtypes=tried)


_LAYOUTS = {
    "transposed": lambda t: t.mT,
    "strided": lambda t: t[:, ::2],
    "offset": lambda t: t[1:],
    "zero_d": lambda t: t[1, 2],
    "empty": lambda t: t[:0],
}


def _layouts(ctx, name):
    peer = _peer(ctx, name)
    base = it.reshape(it.arange(12.0, dtype=it.float32, device=ctx.be), (3, 4))
    for lay, f in _LAYOUTS.items():
        if name == "jax" and lay == "strided":
            ctx.note(jax="strided views skipped: JAX imports only compact layouts (its rule)")
            continue
        t = f(base)
        try:
            a = peer.from_dlpack(t)
        except (BufferError, RuntimeError, TypeError) as e:
            raise Mismatch(f"layout {lay}: {name}.from_dlpack refused it: {e}") from None
        got = peer.tolist(a)
        if got != t.tolist():
            raise Mismatch(f"layout {lay}: {name} sees {got}", expected=t.tolist(), got=got)
        back = it.from_dlpack(a)
        if back.tolist() != t.tolist():
            raise Mismatch(f"layout {lay}: back in interop as {back.tolist()}",
                           expected=t.tolist(), got=back.tolist())


def _read_only(ctx, name):
    peer = _peer(ctx, name)
    if name != "numpy":
        raise Skip(f"{name} has no read-only arrays to export")
    a = peer.make([1.0, 2.0], "float32")
    a.flags.writeable = False
    try:
        t = it.from_dlpack(a)
    except (BufferError, RuntimeError, TypeError, ValueError):
        return          # refusing a read-only producer is allowed
    try:
        t[0] = 5.0
    except (RuntimeError, ValueError, TypeError):
        return
    if a.tolist()[0] == 5.0:
        raise Mismatch("a tensor imported from a read-only NumPy array wrote into it")


def _lifetime(ctx, name):
    peer = _peer(ctx, name)
    t = _tensor(ctx, [1.0, 2.0, 3.0])
    a = peer.from_dlpack(t)
    del t
    gc.collect()
    if peer.tolist(a) != [1.0, 2.0, 3.0]:
        raise Mismatch(f"the {name} array changed after the interop tensor was freed",
                       expected=[1.0, 2.0, 3.0], got=peer.tolist(a))
    b = peer.make([4.0, 5.0], "float32")
    u = it.from_dlpack(b)
    del b
    gc.collect()
    if u.tolist() != [4.0, 5.0]:
        raise Mismatch(f"the interop tensor changed after the {name} array was freed",
                       expected=[4.0, 5.0], got=u.tolist())


def checks():
    out = []
    for p in PEERS:
        for what, fn in (("export", _export), ("import", _import), ("dtypes", _dtypes),
                         ("layouts", _layouts), ("read_only", _read_only),
                         ("lifetime", _lifetime)):
            out.append(Check("dlpack", f"{p}[{what}]", (lambda ctx, p=p, fn=fn: fn(ctx, p)),
                             quick=what in ("export", "import", "dtypes")))
    return out
