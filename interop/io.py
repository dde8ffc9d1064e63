"""``interop.save`` / ``interop.load``: tensors, ``state_dict``s and whole checkpoints as
safetensors files. Never pickle: nothing in a file is ever executed.

A flat dict of tensors (a model's ``state_dict``) is written exactly as
``safetensors.torch.save_file`` writes it, under the same keys, so PyTorch opens our
weights and we open PyTorch's. Anything else made of tensors, dicts, lists, tuples,
numbers, strings, booleans and None (an optimizer's ``state_dict``, a checkpoint dict with
an epoch number) is stored as its tensors plus a JSON description of the rest in the file's
metadata (key ``"interop"``), and comes back as it went in.

Writes are atomic (a temporary file in the same folder, then a rename): a crash mid-save
leaves the old file intact. Reads check the whole file before anything is returned —
truncation, a header longer than the file, a header that is not JSON, offsets that overlap,
leave gaps or run past the end, unknown dtypes, a pickle — and raise a ``ValueError`` that
names the file and the problem.

The format: 8 bytes of header length N (little-endian), N bytes of JSON header
``{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}``,
then the tensors' bytes (C order, little-endian), offsets counted from the end of the header.
"""

import io as _pyio
import json
import os
import struct
import tempfile

import interop as it

__all__ = ["save", "load", "save_file", "load_file", "CheckpointError"]

_CODES = {"BOOL": it.bool, "U8": it.uint8, "I8": it.int8, "I16": it.int16, "U16": it.uint16,
          "F16": it.float16, "BF16": it.bfloat16, "I32": it.int32, "U32": it.uint32,
          "F32": it.float32, "F64": it.float64, "I64": it.int64, "U64": it.uint64,
          "C64": it.complex64}
_NAMES = {dt: code for code, dt in _CODES.items()}
_MAX_HEADER = 100 * 1024 * 1024       # safetensors' own limit
_STRUCTURE_KEY = "interop"


class CheckpointError(ValueError):
    """A file that is not a valid safetensors checkpoint (damaged, hostile or a pickle)."""


# ---------------------------------------------------------------------------- saving

def _encode(obj, path, tensors, seen):
    """JSON-able description of ``obj``; tensors go into ``tensors`` under dotted keys."""
    if isinstance(obj, it.Tensor):
        key = seen.get(id(obj))
        if key is None:
            key = path or "tensor"
            if key in tensors:
                raise ValueError(f"save: two tensors would be stored under the key {key!r}")
            tensors[key] = obj
            seen[id(obj)] = key
        return {"__tensor__": key}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if not isinstance(k, (str, int)) or isinstance(k, bool):
                raise TypeError(f"save: dict keys must be str or int, got "
                                f"{type(k).__name__} {k!r} at {path or 'the top level'!r}")
            items.append([k, _encode(v, f"{path}.{k}" if path else str(k), tensors, seen)])
        return {"__dict__": items}
    if isinstance(obj, (list, tuple)):
        tag = "__tuple__" if isinstance(obj, tuple) else "__list__"
        return {tag: [_encode(v, f"{path}.{i}" if path else str(i), tensors, seen)
                      for i, v in enumerate(obj)]}
    if isinstance(obj, it.dtype):
        return {"__dtype__": obj.name}
    raise TypeError(f"save: cannot store a {type(obj).__name__} (at {path or 'the top level'!r})"
                    f": interop saves tensors, dicts, lists, tuples, numbers, strings, booleans "
                    f"and None, never pickled objects")


def _is_flat_state(obj):
    return isinstance(obj, dict) and bool(obj) and all(
        isinstance(k, str) and isinstance(v, it.Tensor) for k, v in obj.items())


def _serialize(obj, metadata):
    """The bytes of a safetensors file holding ``obj``."""
    tensors = {}
    structure = _encode(obj, "", tensors, {})
    meta = {}
    if metadata:
        for k, v in metadata.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise TypeError(f"save: metadata must map str to str, got {k!r}: "
                                f"{type(v).__name__}")
            if k == _STRUCTURE_KEY:
                raise ValueError(f"save: the metadata key {k!r} is interop's own")
            meta[k] = v
    if not (_is_flat_state(obj) and all(k in tensors for k in obj)):
        meta[_STRUCTURE_KEY] = json.dumps(structure)
    # safetensors orders tensors by alignment, then name; offsets follow that order
    order = sorted(tensors, key=lambda k: (-tensors[k].dtype.itemsize, k))
    header, blobs, offset = {}, [], 0
    for key in order:
        t = tensors[key]
        code = _NAMES.get(t.dtype)
        if code is None:
            raise TypeError(f"save: tensor {key!r} has dtype {t.dtype}, which safetensors "
                            f"cannot store (it has {', '.join(sorted(_CODES))})")
        data = it.backends.to_bytes(t.detach().cpu(), t.dtype)
        header[key] = {"dtype": code, "shape": [int(d) for d in t.shape],
                       "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if meta:
        header = {"__metadata__": meta, **header}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return b"".join([struct.pack("<Q", len(text)), text] + blobs)


def save(obj, f, *, metadata=None):
    """Saves ``obj`` (a tensor, a ``state_dict``, or a nest of them with plain values) to
    path or binary file ``f`` as safetensors. ``metadata`` (str to str) is stored as well.
    A path is written atomically: a temporary file beside it, then renamed over it."""
    data = _serialize(obj, metadata)
    if not isinstance(f, (str, os.PathLike)):
        f.write(data)
        return
    path = os.fspath(f)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".safetensors", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def save_file(tensors, filename, metadata=None):
    """``safetensors.torch.save_file``'s spelling: a flat dict of tensors to ``filename``."""
    if not isinstance(tensors, dict) or not all(isinstance(v, it.Tensor)
                                                for v in tensors.values()):
        raise TypeError("save_file: expected a dict of str to Tensor")
    save(tensors, filename, metadata=metadata)


# ---------------------------------------------------------------------------- loading

def _pickle_hint(name):
    return (f"{name} is a pickle file (what torch.save writes), not safetensors; interop never "
            f"unpickles, as that can run arbitrary code. Convert it once where you trust it: "
            f"python -c \"import torch; from safetensors.torch import save_file; "
            f"save_file(torch.load('{name}', weights_only=True), 'model.safetensors')\"")


def _parse(data, name):
    """(tensor entries, metadata) of safetensors bytes ``data``, everything checked."""
    def bad(problem):
        return CheckpointError(f"{name}: {problem}")

    if data[:2] == b"PK" or data[:1] == b"\x80":
        raise CheckpointError(_pickle_hint(name))
    if len(data) < 8:
        raise bad(f"truncated: {len(data)} bytes, not even the 8-byte header length")
    (n,) = struct.unpack("<Q", data[:8])
    if n > _MAX_HEADER:
        raise bad(f"header length {n} is larger than the {_MAX_HEADER}-byte limit (damaged "
                  f"or not a safetensors file)")
    if 8 + n > len(data):
        raise bad(f"header length {n} runs past the end of the file ({len(data)} bytes): "
                  f"truncated or not a safetensors file")
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise bad(f"the header is not JSON ({e})") from None
    if not isinstance(header, dict):
        raise bad(f"the header is JSON but not an object (got {type(header).__name__})")
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                             for k, v in meta.items()):
        raise bad("__metadata__ must map strings to strings")
    size = len(data) - 8 - n
    spans = []
    for key, e in header.items():
        if not isinstance(e, dict) or set(e) != {"dtype", "shape", "data_offsets"}:
            raise bad(f"entry {key!r} must have exactly dtype, shape and data_offsets, got "
                      f"{e!r}")
        dt = _CODES.get(e["dtype"])
        if dt is None:
            raise bad(f"tensor {key!r} has unknown dtype {e['dtype']!r} (known: "
                      f"{', '.join(sorted(_CODES))})")
        shape, offs = e["shape"], e["data_offsets"]
        if not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape):
            raise bad(f"tensor {key!r} has an invalid shape {shape!r}")
        if not (isinstance(offs, list) and len(offs) == 2 and
                all(type(o) is int for o in offs) and 0 <= offs[0] <= offs[1]):
            raise bad(f"tensor {key!r} has invalid data_offsets {offs!r}")
        if offs[1] > size:
            raise bad(f"tensor {key!r} runs past the end of the file: its data ends at "
                      f"{offs[1]}, the data section has {size} bytes (truncated?)")
        numel = 1
        for d in shape:
            numel *= d
        if offs[1] - offs[0] != numel * dt.itemsize:
            raise bad(f"tensor {key!r}: {offs[1] - offs[0]} bytes of data for a {dt.name} "
                      f"tensor of shape {tuple(shape)} ({numel * dt.itemsize} bytes)")
        spans.append((offs[0], offs[1], key, dt, tuple(shape)))
    spans.sort()
    end = 0
    for begin, stop, key, _, _ in spans:
        if begin < end:
            raise bad(f"tensor {key!r} overlaps the data of another tensor")
        if begin > end:
            raise bad(f"a gap of {begin - end} bytes before tensor {key!r}: damaged file")
        end = stop
    if end != size:
        raise bad(f"{size - end} bytes after the last tensor's data: damaged file")
    return spans, meta, 8 + n


def _decode(node, tensors, name):
    if isinstance(node, dict):
        if "__tensor__" in node:
            key = node["__tensor__"]
            if key not in tensors:
                raise CheckpointError(f"{name}: the structure refers to tensor {key!r}, which "
                                      f"the file does not hold")
            return tensors[key]
        if "__dict__" in node:
            return {k: _decode(v, tensors, name) for k, v in node["__dict__"]}
        if "__list__" in node:
            return [_decode(v, tensors, name) for v in node["__list__"]]
        if "__tuple__" in node:
            return tuple(_decode(v, tensors, name) for v in node["__tuple__"])
        if "__dtype__" in node:
            return it.dtypes.by_name(node["__dtype__"])
        raise CheckpointError(f"{name}: unknown entry in the stored structure: {node!r}")
    return node


def _read(f):
    if isinstance(f, (str, os.PathLike)):
        name = os.fspath(f)
        try:
            with open(name, "rb") as fh:
                return fh.read(), name
        except FileNotFoundError:
            raise FileNotFoundError(f"load: no such file: {name!r}") from None
    if isinstance(f, (bytes, bytearray, memoryview)):
        return bytes(f), "<bytes>"
    if isinstance(f, _pyio.IOBase) or hasattr(f, "read"):
        return f.read(), getattr(f, "name", "<file>")
    raise TypeError(f"load: expected a path, a binary file or bytes, got {type(f).__name__}")


def load(f, *, device=None, map_location=None, metadata=False):
    """Loads what :func:`save` wrote (or any safetensors file, e.g. PyTorch's
    ``safetensors.torch.save_file``) onto ``device`` (default: the current backend); a flat
    file comes back as a dict of tensors. The whole file is checked before anything is
    returned. ``metadata=True`` also returns the file's metadata (str to str)."""
    if map_location is not None:
        if device is not None:
            raise TypeError("load: give device= or map_location=, not both")
        device = map_location
    data, name = _read(f)
    spans, meta, start = _parse(data, name)
    tensors = {}
    for begin, stop, key, dt, shape in spans:
        host = it.backends.from_bytes(data[start + begin:start + stop], dt, shape)
        tensors[key] = it.asarray(host, device=device)
    meta = dict(meta)
    structure = meta.pop(_STRUCTURE_KEY, None)
    if structure is None:
        out = {key: tensors[key] for key in sorted(tensors)}
    else:
        try:
            out = _decode(json.loads(structure), tensors, name)
        except ValueError as e:
            if isinstance(e, CheckpointError):
                raise
            raise CheckpointError(f"{name}: the stored structure is not JSON ({e})") from None
    return (out, meta) if metadata else out


def load_file(filename, device=None):
    """``safetensors.torch.load_file``'s spelling: a dict of tensors."""
    return load(filename, device=device)
