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

import importlib
import io as _pyio
import json
import os
import struct
import re
import sys
import tempfile
import types
from collections import OrderedDict

import interop as it
import interop.nn as nn
from . import serialization

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

def _where(path):
    return repr(path) if path else "the top level"


def _scalar_key(k, path):
    if not isinstance(k, (str, int)) or isinstance(k, bool):
        raise TypeError(f"save: dict keys must be str or int, got {type(k).__name__} {k!r} at "
                        f"{_where(path)}")
    return k


def _global(obj, path):
    """``[module, qualname]`` of a class or function that import can find again (as pickle
    stores one); lambdas, local functions and bound methods cannot be."""
    kind = "class" if isinstance(obj, type) else "function"
    try:
        module, qualname = serialization.global_path(obj)
    except TypeError:
        module = qualname = None
    found = sys.modules.get(module) if module else None
    for part in (qualname or "<none>").split("."):
        found = getattr(found, part, None)
    if found is not obj:
        what = "method" if hasattr(obj, "__self__") and not isinstance(
            getattr(obj, "__self__"), types.ModuleType) else kind
        raise TypeError(f"save: cannot store a {what} ({obj!r}) at {_where(path)}: interop stores "
                        f"classes and functions by import path only, and this one has none "
                        f"(a lambda, a local function or a bound method); never pickled objects")
    return [module, qualname]


class _Encoder:
    """Turns an object into its JSON description; tensors (and NumPy arrays) go into
    ``self.tensors`` under dotted keys (a module's parameters and buffers under their
    ``state_dict`` names)."""

    def __init__(self):
        self.tensors = {}       # key -> Tensor or host array
        self.keys = {}          # id(tensor or array) -> key
        self.modules = {}       # id(module) -> its number in the file
        self.keep = []          # what self.keys refers to, kept alive while encoding

    def _store(self, obj, path):
        key = self.keys.get(id(obj))
        if key is None:
            key = base = path or "tensor"
            n = 1
            while key in self.tensors:      # {"a.b": t} beside a child "a" with tensor "b"
                key, n = f"{base}#{n}", n + 1
            self.tensors[key] = obj
            self.keys[id(obj)] = key
            self.keep.append(obj)
        return key

    def encode(self, obj, path):
        if isinstance(obj, it.Tensor):
            node = {"__tensor__": self._store(obj, path)}
            if type(obj) is not it.Tensor:
                node["class"] = _global(type(obj), path)
            if obj.requires_grad:
                node["requires_grad"] = True
            return node
        if obj is None or type(obj) in (bool, int, float, str):
            return obj
        host = it.backends.host_array_info(obj)     # before float: np.float64 is a float
        if host is not None:
            node = {"__ndarray__": self._store(obj, path)}
            if host == "scalar":
                node["scalar"] = True
            return node
        if isinstance(obj, (bool, int, float, str)):
            return obj
        if isinstance(obj, dict):
            tag = "__odict__" if isinstance(obj, OrderedDict) else "__dict__"
            return {tag: [[_scalar_key(k, path), self.encode(v, f"{path}.{k}" if path else str(k))]
                          for k, v in obj.items()]}
        if isinstance(obj, (list, tuple)):
            tag = "__tuple__" if isinstance(obj, tuple) else "__list__"
            return {tag: [self.encode(v, f"{path}.{i}" if path else str(i))
                          for i, v in enumerate(obj)]}
        if isinstance(obj, (set, frozenset)):
            tag = "__frozenset__" if isinstance(obj, frozenset) else "__set__"
            return {tag: [self.encode(v, path) for v in sorted(obj, key=repr)]}
        if isinstance(obj, it.dtype):
            return {"__dtype__": obj.name}
        if isinstance(obj, it.device):
            return {"__device__": str(obj)}
        if isinstance(obj, nn.Module):
            return self._module(obj, path)
        if isinstance(obj, types.MethodType) and isinstance(obj.__self__, nn.Module):
            name = obj.__func__.__name__
            if getattr(obj.__self__, name, None) != obj:
                raise TypeError(f"save: cannot store the method {obj!r} at {_where(path)}: "
                                f"it is not its module's attribute {name!r}")
            return {"__method__": [self.encode(obj.__self__, path), name]}
        if isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType,
                            types.MethodType)):
            return {"__global__": _global(obj, path)}
        raise TypeError(f"save: cannot store a {type(obj).__name__} (at {_where(path)}): interop "
                        f"saves tensors, NumPy arrays, modules, dicts, lists, tuples, sets, "
                        f"numbers, strings, booleans, None and classes or functions by import "
                        f"path, never pickled objects")

    def _module(self, m, path):
        number = self.modules.get(id(m))
        if number is not None:
            return {"__ref__": number}
        number = self.modules[id(m)] = len(self.modules)
        self.keep.append(m)
        attrs = []
        prefix = f"{path}." if path else ""
        for name, value in vars(m).items():
            if name in ("_parameters", "_buffers", "_modules"):
                # children and tensors under their state_dict names: "fc.weight"
                items = [[k, self.encode(v, prefix + k)] for k, v in value.items()]
                node = {"__odict__" if isinstance(value, OrderedDict) else "__dict__": items}
            else:
                node = self.encode(value, prefix + name)
            attrs.append([name, node])
        return {"__module__": {"class": _global(type(m), path), "id": number, "attrs": attrs}}


def _is_flat_state(obj):
    return isinstance(obj, dict) and bool(obj) and all(
        isinstance(k, str) and isinstance(v, it.Tensor) for k, v in obj.items())


def _serialize(obj, metadata):
    """The bytes of a safetensors file holding ``obj``."""
    encoder = _Encoder()
    structure = encoder.encode(obj, "")
    tensors = encoder.tensors
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
    dtypes = {k: t.dtype if isinstance(t, it.Tensor) else it.backends.host_array_dtype(t, k)
              for k, t in tensors.items()}
    order = sorted(tensors, key=lambda k: (-dtypes[k].itemsize, k))
    header, blobs, offset = {}, [], 0
    for key in order:
        t, dt = tensors[key], dtypes[key]
        code = _NAMES.get(dt)
        if code is None:
            raise TypeError(f"save: tensor {key!r} has dtype {dt}, which safetensors "
                            f"cannot store (it has {', '.join(sorted(_CODES))})")
        data = it.backends.to_bytes(t.detach().cpu() if isinstance(t, it.Tensor) else t, dt)
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

    # a safetensors header is JSON from byte 8 on; its 8-byte length may well start with
    # 0x80 (a header of 128 bytes), which is also how a pickle starts
    if data[8:9] != b"{" and (data[:2] == b"PK" or data[:1] == b"\x80"):
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


_MODULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def _walk(root, qualname):
    obj = root
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    return obj


class _Decoder:
    """Rebuilds what :class:`_Encoder` described. A class or function named in the file is
    taken only from interop itself or from ``serialization``'s allowlist (with
    ``weights_only=False`` also from modules the program has already imported); nothing named
    in the file is called, and a module is rebuilt without running its constructor."""

    def __init__(self, hosts, device, weights_only, name):
        self.hosts, self.device, self.weights_only, self.name = hosts, device, weights_only, name
        self.made = {}          # key -> what a file key turned into (shared objects stay shared)
        self.modules = {}       # module number -> rebuilt module

    def error(self, problem):
        return CheckpointError(f"{self.name}: {problem}")

    def resolve(self, ref, kind):
        """The class or function that ``ref`` ([module, qualname]) names, if it may be used."""
        if not (isinstance(ref, list) and len(ref) == 2 and all(isinstance(r, str) for r in ref)
                and _MODULE_NAME.match(ref[0]) and _MODULE_NAME.match(ref[1])):
            raise self.error(f"invalid {kind} reference {ref!r} in the stored structure")
        module, qualname = ref
        obj = serialization.allowed(module, qualname)
        if obj is None and (module == "interop" or module.startswith("interop.")):
            try:
                obj = _walk(importlib.import_module(module), qualname)
            except ImportError:
                obj = None
        elif obj is None and not self.weights_only and module in sys.modules:
            obj = _walk(sys.modules[module], qualname)
        if obj is not None:
            try:
                if serialization.global_path(obj) != (module, qualname) and \
                        serialization.allowed(module, qualname) is not obj:
                    obj = None      # reached through another module's attribute: not its own
            except TypeError:
                obj = None
        if obj is None:
            raise self.error(
                f"the file wants the {kind} {module}.{qualname}, which is neither interop's own "
                f"nor allowlisted; if you trust it, allow it with "
                f"interop.serialization.safe_globals([{qualname}]) or add_safe_globals([...])")
        return obj

    def tensor(self, key):
        if key not in self.hosts:
            raise self.error(f"the structure refers to tensor {key!r}, which the file does not "
                             f"hold")
        t = self.made.get(("tensor", key))
        if t is None:
            t = self.made["tensor", key] = it.asarray(self.hosts[key], device=self.device)
        return t

    def decode(self, node):
        if not isinstance(node, dict):
            return node
        if "__tensor__" in node:
            return self._tensor_node(node)
        if "__dict__" in node:
            return {k: self.decode(v) for k, v in node["__dict__"]}
        if "__odict__" in node:
            return OrderedDict((k, self.decode(v)) for k, v in node["__odict__"])
        if "__list__" in node:
            return [self.decode(v) for v in node["__list__"]]
        if "__tuple__" in node:
            return tuple(self.decode(v) for v in node["__tuple__"])
        if "__set__" in node:
            return {self.decode(v) for v in node["__set__"]}
        if "__frozenset__" in node:
            return frozenset(self.decode(v) for v in node["__frozenset__"])
        if "__dtype__" in node:
            return it.dtypes.by_name(node["__dtype__"])
        if "__device__" in node:
            return it.device(node["__device__"])
        if "__ndarray__" in node:
            key = node["__ndarray__"]
            if key not in self.hosts:
                raise self.error(f"the structure refers to array {key!r}, which the file does "
                                 f"not hold")
            a = self.made.get(("array", key))
            if a is None:
                a = self.made["array", key] = self.hosts[key]
            return a[()] if node.get("scalar") else a
        if "__global__" in node:
            return self.resolve(node["__global__"], "function or class")
        if "__module__" in node:
            return self._module_node(node["__module__"])
        if "__method__" in node:        # a bound method of a module in the file
            entry = node["__method__"]
            owner = self.decode(entry[0]) if isinstance(entry, list) and len(entry) == 2 \
                else None
            method = getattr(type(owner), entry[1], None) if isinstance(owner, nn.Module) and \
                isinstance(entry[1], str) else None
            if not isinstance(method, types.FunctionType):
                raise self.error(f"invalid method entry in the stored structure: {entry!r}")
            return types.MethodType(method, owner)
        if "__ref__" in node:
            m = self.modules.get(node["__ref__"])
            if m is None:
                raise self.error(f"the structure refers to module {node['__ref__']!r} before "
                                 f"it is defined")
            return m
        raise self.error(f"unknown entry in the stored structure: {node!r}")

    def _tensor_node(self, node):
        t = self.tensor(node["__tensor__"])
        cls, grad = node.get("class"), bool(node.get("requires_grad", False))
        if cls is None and not grad:
            return t
        memo = ("wrapped", node["__tensor__"], tuple(cls or ()), grad)
        out = self.made.get(memo)
        if out is None:
            out = t.detach()
            if cls is not None:
                klass = self.resolve(cls, "tensor class")
                if not (isinstance(klass, type) and issubclass(klass, it.Tensor)):
                    raise self.error(f"{cls[0]}.{cls[1]} is not a Tensor class")
                out = out.as_subclass(klass)
            if grad:
                out.requires_grad_(True)
            self.made[memo] = out
        return out

    def _module_node(self, spec):
        if not (isinstance(spec, dict) and set(spec) == {"class", "id", "attrs"}
                and isinstance(spec["attrs"], list)):
            raise self.error(f"invalid module entry in the stored structure: {spec!r}")
        cls = self.resolve(spec["class"], "class")
        if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
            raise self.error(f"{spec['class'][0]}.{spec['class'][1]} is not a Module class")
        if spec["id"] in self.modules:
            raise self.error(f"module {spec['id']!r} is defined twice")
        m = object.__new__(cls)             # no constructor runs
        self.modules[spec["id"]] = m
        state = {}
        for entry in spec["attrs"]:
            if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)):
                raise self.error(f"invalid module attribute entry {entry!r}")
            state[entry[0]] = self.decode(entry[1])
        vars(m).update(state)
        return m


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


def load(f, map_location=None, pickle_module=None, *, weights_only=None, device=None,
         metadata=False):
    """Loads what :func:`save` wrote (or any safetensors file, e.g. PyTorch's
    ``safetensors.torch.save_file``) onto ``device``/``map_location`` (default: the current
    backend); a flat file comes back as a dict of tensors, a saved module as that module,
    a NumPy array as a NumPy array. The whole file is checked before anything is returned.

    Classes and functions named in the file (a saved module's class, an activation
    function) are rebuilt only if they are interop's own or allowlisted with
    :func:`interop.serialization.safe_globals` / ``add_safe_globals`` — PyTorch's
    ``weights_only=True`` contract, the default. ``weights_only=False`` also accepts classes
    of modules the program has already imported; nothing in a file is ever executed either
    way (no unpickling, no constructor runs). ``metadata=True`` also returns the file's
    metadata (str to str)."""
    if pickle_module is not None:
        raise TypeError("load: interop never unpickles, so pickle_module= has no use here")
    if weights_only not in (None, True, False):
        raise TypeError(f"load: weights_only must be True, False or None, got {weights_only!r}")
    if map_location is not None:
        if device is not None:
            raise TypeError("load: give device= or map_location=, not both")
        if isinstance(map_location, dict) or callable(map_location):
            raise TypeError(f"load: map_location must be a device or a device name; a "
                            f"{type(map_location).__name__} is not supported")
        device = map_location
    data, name = _read(f)
    spans, meta, start = _parse(data, name)
    hosts = {key: it.backends.from_bytes(data[start + begin:start + stop], dt, shape)
             for begin, stop, key, dt, shape in spans}
    decoder = _Decoder(hosts, device, weights_only is not False, name)
    meta = dict(meta)
    structure = meta.pop(_STRUCTURE_KEY, None)
    if structure is None:
        out = {key: decoder.tensor(key) for key in sorted(hosts)}
    else:
        try:
            node = json.loads(structure)
            out = decoder.decode(node)
        except RecursionError:
            raise CheckpointError(f"{name}: the stored structure is nested too deeply") \
                from None
        except CheckpointError:
            raise
        except ValueError as e:
            raise CheckpointError(f"{name}: the stored structure is not JSON ({e})") from None
    return (out, meta) if metadata else out


def load_file(filename, device=None):
    """``safetensors.torch.load_file``'s spelling: a dict of tensors."""
    return load(filename, device=device)
