"""The recording half of the exporter: a graph builder and a tracing Array API namespace.

``Graph`` collects ONNX nodes and initializers (built with the ``onnx`` package's helper
API) and hands out value names.

``Traced`` is one array of the traced forward: the real array of the model's backend
(``v``, so every value is concrete and Python control flow runs as usual) and where the
graph holds it (``name``):

* a string: a value of the graph (a graph input, an initializer, a node's output);
* ``None``: a constant, computed from constants only (made inside the forward); it
  becomes an initializer the first time a recorded op reads it;
* ``OPAQUE``: computed inside a layer that the exporter writes as native ONNX nodes; the
  layer's converter names its outputs when the layer returns.

``dyn`` holds one flag per dimension: whether that size follows a dynamic axis (the
batch) rather than being the size it had at export.

``TracingNamespace`` wraps the backend's namespace: each function runs on the real
arrays, and where an input is a recorded value it also emits the ONNX node(s) that
compute it (the table ``_EMITTERS``). A function with no emitter raises
:class:`UnsupportedOperatorError` naming it and the module path being traced.
"""

import warnings

from ..backends import to_bytes

OPAQUE = "<inside a native layer>"
INT64_MAX = 2 ** 63 - 1
INT64_MIN = -2 ** 63


class UnsupportedOperatorError(RuntimeError):
    """An operation or layer that the ONNX exporter cannot express."""


def _onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError("interop.onnx needs the 'onnx' package: pip install onnx "
                          "(or pip install 'interop[onnx]', which also brings onnxruntime)") \
            from None
    return onnx


class Graph:
    """Nodes, initializers and names of the graph under construction.

    ``be`` is the model's real backend (its namespace ``be.xp`` computes constants such as
    a transposed weight); ``opset`` the target opset; ``path`` the stack of modules being
    traced, as (path, class name), for error messages."""

    def __init__(self, be, opset):
        self.onnx = _onnx()
        self.be = be
        self.xp = be.xp
        self.opset = opset
        self.nodes = []
        self.initializers = []
        self.srcs = {}            # value name -> (op, operands: names or Python scalars)
        self.dynamic_sizes = set()  # the sizes the dynamic axes have in the example
        self.weights = {}        # state_dict name -> raw array, written if the graph reads it
        self.path = [("", "a function")]   # (module path, class name) being traced
        self._n = 0
        self._const_cache = {}

    # ------------------------------------------------------------------ names
    def fresh(self, hint):
        self._n += 1
        return f"{hint}_{self._n}"

    def where(self):
        p, cls = self.path[-1]
        return f"module {p!r} ({cls})" if p else f"the top-level module ({cls})"

    def unsupported(self, what):
        return UnsupportedOperatorError(
            f"ONNX export: {what} cannot be expressed in ONNX (opset {self.opset}); met in "
            f"{self.where()}")

    # ------------------------------------------------------------------ dtypes
    def onnx_dtype(self, dtype_name):
        tp = self.onnx.TensorProto
        table = {"float32": tp.FLOAT, "float64": tp.DOUBLE, "float16": tp.FLOAT16,
                 "bfloat16": tp.BFLOAT16, "int8": tp.INT8, "int16": tp.INT16,
                 "int32": tp.INT32, "int64": tp.INT64, "uint8": tp.UINT8,
                 "uint16": tp.UINT16, "uint32": tp.UINT32, "uint64": tp.UINT64,
                 "bool": tp.BOOL, "complex64": tp.COMPLEX64, "complex128": tp.COMPLEX128}
        if dtype_name not in table:
            raise self.unsupported(f"dtype {dtype_name}")
        return table[dtype_name]

    def dtype_name(self, raw):
        return self.be.from_native[raw.dtype].name

    # ------------------------------------------------------------------ content
    def node(self, op, inputs, nout=1, hint=None, **attrs):
        """Append node ``op`` reading value names ``inputs`` ('' for an absent optional
        input); returns its output name (or a list of ``nout`` names)."""
        outs = [self.fresh(hint or op) for _ in range(nout)]
        self.nodes.append(self.onnx.helper.make_node(op, list(inputs), outs, **attrs))
        return outs[0] if nout == 1 else outs

    def array(self, raw, hint="const"):
        """An initializer holding the real array ``raw`` (a constant or a weight)."""
        name = self.fresh(hint)
        self.add_initializer(name, raw)
        return name

    def add_initializer(self, name, raw):
        dname = self.dtype_name(raw)
        dt = self.be.from_native[raw.dtype]
        host = self.be.to_host(raw)          # (from a GPU too)
        self.initializers.append(self.onnx.helper.make_tensor(
            name, self.onnx_dtype(dname), tuple(raw.shape), to_bytes(host, dt), raw=True))

    def ints(self, values, hint="shape"):
        """An int64 1-d initializer (shapes, axes, slice bounds), shared by equal lists."""
        key = ("i64", tuple(values))
        if key not in self._const_cache:
            name = self.fresh(hint)
            self.initializers.append(self.onnx.helper.make_tensor(
                name, self.onnx.TensorProto.INT64, (len(values),), [int(v) for v in values]))
            self._const_cache[key] = name
        return self._const_cache[key]

    def scalar(self, value, dtype_name, hint="scalar"):
        """A 0-d initializer of dtype ``dtype_name`` holding Python number ``value``."""
        key = ("scalar", dtype_name, repr(value))
        if key not in self._const_cache:
            name = self.fresh(hint)
            dt = self.onnx_dtype(dtype_name)
            if dtype_name == "bool":
                v = [bool(value)]
            elif dtype_name.startswith(("int", "uint")):
                v = [int(value)]
            else:
                v = [float(value)]
            if dtype_name in ("float16", "bfloat16"):
                raw = self.xp.asarray(value, dtype=getattr(self.xp, dtype_name))
                self.add_initializer(name, raw)
            else:
                self.initializers.append(self.onnx.helper.make_tensor(name, dt, (), v))
            self._const_cache[key] = name
        return self._const_cache[key]

    def value(self, t):
        """The graph name of traced array ``t`` (a constant becomes an initializer once)."""
        if t.name is None:
            shape = tuple(t.v.shape)
            sizes = sorted(b for b in self.dynamic_sizes if b > 1 and b in shape)
            if sizes:
                warnings.warn(
                    f"ONNX export: a constant of shape {shape}, made during the forward, is read "
                    f"by the graph (in {self.where()}); its size {sizes[0]} is also the size of a "
                    f"dynamic axis, and if it follows that axis the graph is wrong for other "
                    f"sizes (exporting with a distinctive size, e.g. batch 3, tells them apart)",
                    stacklevel=2)
            t.name = self.array(t.v)
        elif t.name is OPAQUE:
            raise RuntimeError("interop.onnx: a value computed inside a native layer was read "
                               f"before the layer returned (in {self.where()})")
        return t.name


class Traced:
    """One array of the traced forward (see the module docstring)."""

    __slots__ = ("v", "name", "dyn", "ns", "__weakref__")
    __hash__ = object.__hash__

    def __init__(self, v, ns, name=None, dyn=None):
        self.v = v
        self.ns = ns
        self.name = name
        self.dyn = dyn if dyn is not None else (False,) * len(v.shape)

    # -- the array object's attributes
    shape = property(lambda self: self.v.shape)
    dtype = property(lambda self: self.v.dtype)
    device = property(lambda self: self.v.device)
    ndim = property(lambda self: self.v.ndim)
    size = property(lambda self: self.v.size)

    @property
    def T(self):
        return self.ns.permute_dims(self, tuple(range(self.ndim))[::-1])

    @property
    def mT(self):
        axes = list(range(self.ndim))
        axes[-2], axes[-1] = axes[-1], axes[-2]
        return self.ns.permute_dims(self, tuple(axes))

    def __array_namespace__(self, api_version=None):
        return self.ns

    def __dlpack__(self, **kw):
        return self.v.__dlpack__(**kw)

    def __dlpack_device__(self):
        return self.v.__dlpack_device__()

    def to_device(self, device, /, stream=None):
        return self

    def __repr__(self):
        return f"Traced({self.name!r}, shape={tuple(self.shape)})"

    # -- reading values (Python control flow on data runs on the export's example values)
    def __bool__(self):
        return bool(self.v)

    def __int__(self):
        return int(self.v)

    def __float__(self):
        return float(self.v)

    def __index__(self):
        return self.v.__index__()

    def __complex__(self):
        return complex(self.v)

    def __len__(self):
        return len(self.v)

    def __array__(self, dtype=None, copy=None):
        return self.v.__array__() if dtype is None else self.v.__array__(dtype)

    # -- operators: the namespace's functions
    def _bin(name, reverse=False):
        if reverse:
            return lambda self, other: self.ns._call(name, (other, self), {})
        return lambda self, other: self.ns._call(name, (self, other), {})

    __add__, __radd__ = _bin("add"), _bin("add", True)
    __sub__, __rsub__ = _bin("subtract"), _bin("subtract", True)
    __mul__, __rmul__ = _bin("multiply"), _bin("multiply", True)
    __truediv__, __rtruediv__ = _bin("divide"), _bin("divide", True)
    __floordiv__, __rfloordiv__ = _bin("floor_divide"), _bin("floor_divide", True)
    __mod__, __rmod__ = _bin("remainder"), _bin("remainder", True)
    __pow__, __rpow__ = _bin("pow"), _bin("pow", True)
    __matmul__, __rmatmul__ = _bin("matmul"), _bin("matmul", True)
    __and__, __rand__ = _bin("bitwise_and"), _bin("bitwise_and", True)
    __or__, __ror__ = _bin("bitwise_or"), _bin("bitwise_or", True)
    __xor__, __rxor__ = _bin("bitwise_xor"), _bin("bitwise_xor", True)
    __lshift__, __rshift__ = _bin("bitwise_left_shift"), _bin("bitwise_right_shift")
    __eq__, __ne__ = _bin("equal"), _bin("not_equal")
    __lt__, __le__ = _bin("less"), _bin("less_equal")
    __gt__, __ge__ = _bin("greater"), _bin("greater_equal")
    del _bin

    def __neg__(self):
        return self.ns._call("negative", (self,), {})

    def __pos__(self):
        return self

    def __abs__(self):
        return self.ns._call("abs", (self,), {})

    def __invert__(self):
        return self.ns._call("bitwise_invert", (self,), {})

    def __getitem__(self, key):
        return self.ns._call("__getitem__", (self, key), {})

    def __setitem__(self, key, value):
        self.ns._setitem(self, key, value)


def _has_traced(obj):
    if isinstance(obj, Traced):
        return True
    if isinstance(obj, (list, tuple)):
        return any(_has_traced(o) for o in obj)
    return False


def _raw(obj):
    if isinstance(obj, Traced):
        return obj.v
    if isinstance(obj, list):
        return [_raw(o) for o in obj]
    if isinstance(obj, tuple):
        return tuple(_raw(o) for o in obj)
    return obj


def _recorded(objs):
    """The traced arrays among ``objs`` (nested lists/tuples) that the graph computes."""
    out = []
    for o in objs:
        if isinstance(o, Traced):
            if o.name is not None:
                out.append(o)
        elif isinstance(o, (list, tuple)):
            out.extend(_recorded(o))
    return out


class TracingNamespace:
    """An Array API namespace over the backend's own, recording ONNX nodes (see the module
    docstring). ``suppress`` > 0 while a native layer runs: results are then marked
    ``OPAQUE`` instead of recorded."""

    def __init__(self, graph):
        self._g = graph
        self._xp = graph.xp
        self.suppress = 0
        xp = self._xp
        for k in dir(xp):
            if k.startswith("_"):
                continue
            obj = getattr(xp, k)
            if callable(obj) and not isinstance(obj, type) and k not in _PASSTHROUGH:
                setattr(self, k, self._fn(k))
            else:
                setattr(self, k, obj)
        self.__array_api_version__ = getattr(xp, "__array_api_version__", "2023.12")

    def _fn(self, name):
        def f(*args, **kwargs):
            return self._call(name, args, kwargs)
        f.__name__ = name
        return f

    def wrap(self, raw, name=None, dyn=None):
        return Traced(raw, self, name, dyn)

    def _wrap_out(self, out, name):
        if isinstance(out, (tuple, list)):
            return type(out)(self._wrap_out(o, name) for o in out)
        if hasattr(out, "shape") and hasattr(out, "dtype") and not isinstance(out, Traced):
            return Traced(out, self, name)
        return out

    def _call(self, name, args, kwargs):
        if name == "__getitem__":
            res = args[0].v[_raw(args[1])]
        else:
            res = getattr(self._xp, name)(*_raw(args), **{k: _raw(v) for k, v in kwargs.items()})
        recorded = _recorded(list(args) + list(kwargs.values()))
        if not recorded:
            return self._wrap_out(res, None)
        if self.suppress:
            return self._wrap_out(res, OPAQUE)
        for r in recorded:
            if r.name is OPAQUE:
                self._g.value(r)     # raises
        emit = _EMITTERS.get(name)
        if emit is None:
            raise self._g.unsupported(f"the array function {name!r}")
        out = self._wrap_out(res, None)
        emit(self._g, out, *args, **kwargs)
        return out

    def _setitem(self, target, key, value):
        if not (_has_traced([key, value]) and _recorded([key, value])) and target.name is None:
            target.v[_raw(key)] = _raw(value)
            return
        if self.suppress:
            target.v[_raw(key)] = _raw(value)
            target.name = OPAQUE
            return
        raise self._g.unsupported("an in-place write into a traced array (x[...] = v)")


_PASSTHROUGH = {"isdtype", "result_type", "can_cast", "finfo", "iinfo", "__array_namespace_info__"}


# ---------------------------------------------------------------------- emitters
# Each emitter appends the nodes computing ``out`` (a Traced already holding the real
# result) from the call's arguments, and sets ``out.name`` and ``out.dyn``.

def _dt(g, t):
    return g.dtype_name(t.v if isinstance(t, Traced) else t)


def _operand(g, x, like):
    """The graph name of operand ``x`` (a traced array, or a Python scalar taking the dtype
    of ``like``)."""
    if isinstance(x, Traced):
        return g.value(x)
    return g.scalar(x, _dt(g, like))


def _bdyn(*ts):
    """Dynamic flags of a broadcast result."""
    arrs = [t for t in ts if isinstance(t, Traced)]
    n = max(len(t.dyn) for t in arrs)
    out = [False] * n
    for t in arrs:
        for i, d in enumerate(t.dyn):
            if d:
                out[n - len(t.dyn) + i] = True
    return tuple(out)


def _elementwise(op, cast_to_out=False):
    def emit(g, out, *args, **kwargs):
        ts = [a for a in args if isinstance(a, Traced)]
        like = ts[0]
        names = []
        want = _dt(g, like) if not cast_to_out else _dt(g, out)
        for a in args:
            n = _operand(g, a, like)
            if isinstance(a, Traced) and _dt(g, a) != want:
                n = g.node("Cast", [n], to=g.onnx_dtype(want))
            names.append(n)
        out.name = g.node(op, names)
        out.dyn = _bdyn(*ts)
        g.srcs[out.name] = (op, tuple(a.name if isinstance(a, Traced) else a for a in args))
        if op == "Add":
            _sigmoid_peephole(g, out)
    return emit


def _unary(op):
    def emit(g, out, x, **kw):
        out.name = g.node(op, [g.value(x)])
        out.dyn = x.dyn
        g.srcs[out.name] = (op, (x.name,))
    return emit


def _src(g, name, op, scalar=None):
    """The traced operand of ``name``'s producer when it is ``op`` of that operand (and of
    the Python scalar ``scalar``), else None."""
    src = g.srcs.get(name)
    if src is None or src[0] != op:
        return None
    names = [a for a in src[1] if isinstance(a, str)]
    scalars = [a for a in src[1] if not isinstance(a, str)]
    if len(names) != 1 or (scalars != ([scalar] if scalar is not None else [])):
        return None
    return names[0]


def _sigmoid_peephole(g, out):
    """``tanh(x * 0.5) * 0.5 + 0.5`` (interop's sigmoid) is written as Sigmoid(x); the
    nodes it replaces are dropped when nothing else reads them."""
    m = _src(g, out.name, "Add", 0.5)
    t = m and _src(g, m, "Mul", 0.5)
    h = t and _src(g, t, "Tanh")
    x = h and _src(g, h, "Mul", 0.5)
    if x:
        out.name = g.node("Sigmoid", [x])


def _compare_common(g, out, a, b, op, negate=False):
    ts = [t for t in (a, b) if isinstance(t, Traced)]
    want = _dt(g, ts[0]) if len(ts) == 1 else g.dtype_name(
        g.xp.result_type(ts[0].v.dtype, ts[1].v.dtype))
    names = []
    for x in (a, b):
        n = _operand(g, x, ts[0])
        if isinstance(x, Traced) and _dt(g, x) != want:
            n = g.node("Cast", [n], to=g.onnx_dtype(want))
        names.append(n)
    n = g.node(op, names)
    out.name = g.node("Not", [n]) if negate else n
    out.dyn = _bdyn(*ts)
    if not negate:
        g.srcs[out.name] = (op, tuple(x.name if isinstance(x, Traced) else x for x in (a, b)))


def _compare(op, negate=False):
    return lambda g, out, a, b: _compare_common(g, out, a, b, op, negate)


def _floor_divide(g, out, a, b):
    if _dt(g, out).startswith(("int", "uint")):
        raise g.unsupported("integer floor_divide (ONNX's Div truncates toward zero)")
    _elementwise("Div", True)(g, out, a, b)
    out.name = g.node("Floor", [out.name])


def _remainder(g, out, a, b):
    if not _dt(g, out).startswith(("int", "uint")):
        raise g.unsupported("floating-point remainder (ONNX's Mod with fmod=1 takes the "
                            "dividend's sign, Python's the divisor's)")
    ts = [t for t in (a, b) if isinstance(t, Traced)]
    out.name = g.node("Mod", [_operand(g, a, ts[0]), _operand(g, b, ts[0])], fmod=0)
    out.dyn = _bdyn(*ts)


def _axes(axis, ndim):
    if axis is None:
        return list(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    return sorted(a % ndim if ndim else 0 for a in axis)


def _reduce(op, bool_ok=False):
    def emit(g, out, x, /, *, axis=None, keepdims=False, dtype=None, correction=None):
        n = g.value(x)
        if dtype is not None and _dt(g, out) != _dt(g, x):
            n = g.node("Cast", [n], to=g.onnx_dtype(_dt(g, out)))
        axes = _axes(axis, x.ndim)
        if not axes and x.ndim:
            out.name = g.node("Identity", [n])
            out.dyn = x.dyn
            return
        if x.ndim == 0:
            out.name = g.node("Identity", [n])
            out.dyn = ()
            return
        out.name = g.node(op, [n, g.ints(axes, "axes")], keepdims=int(bool(keepdims)))
        out.dyn = tuple(d if i not in axes else False for i, d in enumerate(x.dyn)
                        if keepdims or i not in axes)
    return emit


def _var(g, out, x, /, *, axis=None, correction=0.0, keepdims=False):
    axes = _axes(axis, x.ndim)
    if correction and any(x.dyn[a] for a in axes):
        raise g.unsupported("var/std with a correction over a dynamic axis")
    n = g.value(x)
    ax = g.ints(axes, "axes")
    mean = g.node("ReduceMean", [n, ax], keepdims=1)
    d = g.node("Sub", [n, mean])
    sq = g.node("Mul", [d, d])
    v = g.node("ReduceMean", [sq, ax], keepdims=int(bool(keepdims)))
    if correction:
        count = 1
        for a in axes:
            count *= x.shape[a]
        v = g.node("Mul", [v, g.scalar(count / (count - correction), _dt(g, x))])
    out.name = v
    out.dyn = tuple(d for i, d in enumerate(x.dyn) if keepdims or i not in axes)
    if keepdims:
        out.dyn = tuple(False if i in axes else d for i, d in enumerate(x.dyn))


def _std(g, out, x, /, **kw):
    _var(g, out, x, **kw)
    out.name = g.node("Sqrt", [out.name])


def reshape_target(g, x, shape):
    """The int64 target of a Reshape of ``x`` to ``shape`` valid for every size of its
    dynamic axes, and the result's dynamic flags: a leading dimension that keeps its size
    from ``x`` is copied (0), one dimension holding dynamic sizes becomes -1."""
    shape = [int(s) for s in shape]
    if -1 in shape:
        known = 1
        for s in shape:
            if s != -1:
                known *= s
        total = 1
        for s in x.shape:
            total *= s
        shape[shape.index(-1)] = total // known if known else 0
    target = list(shape)
    dyn = [False] * len(shape)
    if not any(x.dyn):
        return target, tuple(dyn)
    # leading dims kept as they are
    k = 0
    while k < min(len(shape), x.ndim) and shape[k] == x.shape[k]:
        if x.dyn[k]:
            target[k] = 0
            dyn[k] = True
        k += 1
    rest_dyn = any(x.dyn[k:])
    if rest_dyn:
        # the remaining dynamic sizes all land in one output dim: the one that holds them
        # (the first remaining dim whose size is a multiple of theirs), written -1
        dsize = 1
        for i in range(k, x.ndim):
            if x.dyn[i]:
                dsize *= x.shape[i]
        cand = [i for i in range(k, len(shape)) if dsize and shape[i] % dsize == 0]
        if not cand:   # a dim merged with the batch split again: the one the batch returns to
            cand = [i for i in range(k, len(shape))
                    if any(b > 1 and shape[i] % b == 0 for b in g.dynamic_sizes)]
        if not cand:
            raise g.unsupported(f"a reshape of shape {tuple(x.shape)} (dynamic axes "
                                f"{[i for i, d in enumerate(x.dyn) if d]}) to {tuple(shape)}")
        target[cand[0]] = -1
        dyn[cand[0]] = True
    return target, tuple(dyn)


def _reshape(g, out, x, /, shape, *, copy=None):
    if tuple(x.shape) == tuple(out.shape) and not any(x.dyn):
        out.name = g.node("Identity", [g.value(x)])
        out.dyn = x.dyn
        return
    target, dyn = reshape_target(g, x, shape)
    out.name = g.node("Reshape", [g.value(x), g.ints(target)])
    out.dyn = dyn


def _permute(g, out, x, /, axes):
    axes = [a % x.ndim for a in axes]
    out.name = g.node("Transpose", [g.value(x)], perm=axes)
    out.dyn = tuple(x.dyn[a] for a in axes)


def _expand_dims(g, out, x, /, axis=0):
    axes = [axis] if isinstance(axis, int) else list(axis)
    nd = out.ndim
    axes = sorted(a % nd for a in axes)
    out.name = g.node("Unsqueeze", [g.value(x), g.ints(axes, "axes")])
    dyn = list(x.dyn)
    for a in axes:
        dyn.insert(a, False)
    out.dyn = tuple(dyn)


def _squeeze(g, out, x, /, axis):
    axes = sorted(a % x.ndim for a in ([axis] if isinstance(axis, int) else axis))
    out.name = g.node("Squeeze", [g.value(x), g.ints(axes, "axes")])
    out.dyn = tuple(d for i, d in enumerate(x.dyn) if i not in axes)


def _concat(g, out, arrays, /, *, axis=0):
    if axis is None:
        raise g.unsupported("concat with axis=None")
    ts = [a for a in arrays if isinstance(a, Traced)]
    like = ts[0]
    names = []
    for a in arrays:
        n = g.value(a) if isinstance(a, Traced) else g.array(a)
        if _dt(g, a) != _dt(g, out):
            n = g.node("Cast", [n], to=g.onnx_dtype(_dt(g, out)))
        names.append(n)
    ax = axis % out.ndim
    out.name = names[0] if len(names) == 1 else g.node("Concat", names, axis=ax)
    out.dyn = tuple(any(t.dyn[i] for t in ts if t.ndim == like.ndim) and i != ax
                    for i in range(out.ndim))


def _stack(g, out, arrays, /, *, axis=0):
    ax = axis % out.ndim
    ts = [a for a in arrays if isinstance(a, Traced)]
    names = [g.node("Unsqueeze", [g.value(a) if isinstance(a, Traced) else g.array(a),
                                  g.ints([ax], "axes")]) for a in arrays]
    out.name = names[0] if len(names) == 1 else g.node("Concat", names, axis=ax)
    dyn = list(_bdyn(*ts))
    dyn.insert(ax, False)
    out.dyn = tuple(dyn)


def _where(g, out, c, a, b):
    ts = [t for t in (c, a, b) if isinstance(t, Traced)]
    want = _dt(g, out)
    names = [g.value(c) if isinstance(c, Traced) else g.scalar(c, "bool")]
    for x in (a, b):
        if isinstance(x, Traced):
            n = g.value(x)
            if _dt(g, x) != want:
                n = g.node("Cast", [n], to=g.onnx_dtype(want))
        else:
            n = g.scalar(x, want)
        names.append(n)
    # interop's relu, where(x < 0, 0, x), is written as Relu(x)
    if isinstance(c, Traced) and isinstance(b, Traced) and not isinstance(a, Traced) and \
            a == 0 and _src(g, c.name, "Less", 0) == b.name and _dt(g, b) == want:
        out.name = g.node("Relu", [b.name])
    else:
        out.name = g.node("Where", names)
    out.dyn = _bdyn(*ts)


def _astype(g, out, x, dtype, /, *, copy=True, device=None):
    if _dt(g, x) == _dt(g, out):
        out.name = g.value(x)
    else:
        out.name = g.node("Cast", [g.value(x)], to=g.onnx_dtype(_dt(g, out)))
    out.dyn = x.dyn


def _matmul(g, out, a, b):
    out.name = g.node("MatMul", [g.value(a), g.value(b)])
    # batch dims broadcast, rows from a, columns from b
    n = out.ndim
    dyn = [False] * n
    if a.ndim >= 2:
        for i, d in enumerate(a.dyn[:-1]):
            if d:
                dyn[n - (a.ndim - i) + (0 if b.ndim >= 2 else 1)] = True
    if b.ndim >= 2:
        for i, d in enumerate(b.dyn[:-2]):
            if d:
                dyn[n - (b.ndim - i) + (0 if a.ndim >= 2 else 1)] = True
        if b.dyn[-1]:
            dyn[-1] = True
    out.dyn = tuple(dyn)


def _broadcast_to(g, out, x, /, shape):
    target = list(shape)
    off = len(shape) - x.ndim
    dyn = [False] * len(shape)
    for i, d in enumerate(x.dyn):
        if d:
            target[off + i] = 1      # Expand keeps the input's size where the target says 1
            dyn[off + i] = True
    out.name = g.node("Expand", [g.value(x), g.ints(target)])
    out.dyn = tuple(dyn)


def _take(g, out, x, indices, /, *, axis=None):
    if axis is None:
        if x.ndim != 1:
            raise g.unsupported("take without axis on an array of more than one dim")
        axis = 0
    axis %= x.ndim
    idx = g.value(indices) if isinstance(indices, Traced) else g.array(indices, "indices")
    out.name = g.node("Gather", [g.value(x), idx], axis=axis)
    idyn = indices.dyn if isinstance(indices, Traced) else (False,) * indices.ndim
    out.dyn = x.dyn[:axis] + tuple(idyn) + x.dyn[axis + 1:]


def _take_along_axis(g, out, x, indices, /, *, axis=-1):
    idx = g.value(indices) if isinstance(indices, Traced) else g.array(indices, "indices")
    out.name = g.node("GatherElements", [g.value(x), idx], axis=axis % x.ndim)
    out.dyn = x.dyn


def _clip(g, out, x, /, min=None, max=None):
    names = [g.value(x)]
    for v in (min, max):
        if v is None:
            names.append("")
        elif isinstance(v, Traced):
            names.append(g.value(v))
        else:
            names.append(g.scalar(v, _dt(g, x)))
    while names[-1] == "":
        names.pop()
    out.name = g.node("Clip", names)
    out.dyn = x.dyn


def _argminmax(op):
    def emit(g, out, x, /, *, axis=None, keepdims=False):
        n = g.value(x)
        if axis is None:
            n = g.node("Reshape", [n, g.ints([-1])])
            axis = 0
        out.name = g.node(op, [n], axis=axis % max(x.ndim, 1), keepdims=int(bool(keepdims)),
                          select_last_index=0)
        out.dyn = tuple(d for i, d in enumerate(x.dyn) if keepdims or i != axis % max(x.ndim, 1))
    return emit


def _cumsum(g, out, x, /, *, axis=None, dtype=None, include_initial=False):
    if include_initial:
        raise g.unsupported("cumulative_sum with include_initial=True")
    out.name = g.node("CumSum", [g.value(x), g.scalar(0 if axis is None else axis, "int64",
                                                      "axis")])
    out.dyn = x.dyn


def _like(fill):
    def emit(g, out, x, /, *args, dtype=None, device=None, **kw):
        if not any(x.dyn):
            out.name = None       # a constant: the example's shape is the only shape
            return
        value = fill if fill is not None else (args[0] if args else kw["fill_value"])
        shape = g.node("Shape", [g.value(x)])
        dname = _dt(g, out)
        tensor = g.onnx.helper.make_tensor("value", g.onnx_dtype(dname), (1,),
                                           [bool(value)] if dname == "bool" else
                                           [int(value)] if dname.startswith(("int", "uint"))
                                           else [float(value)])
        out.name = g.node("ConstantOfShape", [shape], value=tensor)
        out.dyn = x.dyn
    return emit


def _getitem(g, out, x, key):
    if not isinstance(key, tuple):
        key = (key,)
    # expand the ellipsis
    n_index = sum(1 for k in key if k is not None and k is not Ellipsis)
    if any(k is Ellipsis for k in key):
        i = next(i for i, k in enumerate(key) if k is Ellipsis)
        key = key[:i] + (slice(None),) * (x.ndim - n_index) + key[i + 1:]
    else:
        key = key + (slice(None),) * (x.ndim - n_index)
    name = g.value(x)
    starts, ends, axes, steps = [], [], [], []
    gathers = []            # (input axis, index) after slicing
    newaxes = []            # output positions of None
    arrays = []
    dyn = []
    d = 0
    outpos = 0
    for k in key:
        if k is None:
            newaxes.append(outpos)
            dyn.append(False)
            outpos += 1
            continue
        if isinstance(k, slice):
            if k != slice(None) and k != slice(None, None, 1):
                step = 1 if k.step is None else k.step
                if step > 0:
                    s = 0 if k.start is None else k.start
                    e = INT64_MAX if k.stop is None else k.stop
                else:
                    s = INT64_MAX if k.start is None else k.start
                    e = INT64_MIN if k.stop is None else k.stop
                starts.append(s)
                ends.append(e)
                axes.append(d)
                steps.append(step)
                dyn.append(False)
            else:
                dyn.append(x.dyn[d])
            d += 1
            outpos += 1
            continue
        if isinstance(k, bool) or (isinstance(k, Traced) and _dt(g, k) == "bool") or \
                (hasattr(k, "dtype") and not isinstance(k, (int, Traced))
                 and g.dtype_name(k) == "bool"):
            raise g.unsupported("boolean-mask indexing (its result's shape depends on the data)")
        if isinstance(k, int) or (hasattr(k, "__index__") and not hasattr(k, "shape")):
            gathers.append((d, int(k)))
            d += 1
            continue
        if isinstance(k, Traced) or hasattr(k, "shape"):
            arrays.append((d, k, outpos))
            dyn.append(False)
            d += 1
            outpos += 1
            continue
        raise g.unsupported(f"indexing with {type(k).__name__}")
    if len(arrays) > 1:
        raise g.unsupported("indexing with more than one index array")
    if starts:
        name = g.node("Slice", [name, g.ints(starts, "starts"), g.ints(ends, "ends"),
                                g.ints(axes, "axes"), g.ints(steps, "steps")])
    # integer indices and an index array: Gather, from the last axis down (axes stay valid)
    removed = []
    ops = [(ax, ("int", i)) for ax, i in gathers] + [(ax, ("arr", a)) for ax, a, _ in arrays]
    for ax, (kind, idx) in sorted(ops, key=lambda t: -t[0]):
        if kind == "int":
            name = g.node("Gather", [name, g.scalar(idx, "int64", "index")], axis=ax)
            removed.append(ax)
        else:
            iname = g.value(idx) if isinstance(idx, Traced) else g.array(idx, "indices")
            if _dt(g, idx) != "int64":
                iname = g.node("Cast", [iname], to=g.onnx_dtype("int64"))
            name = g.node("Gather", [name, iname], axis=ax - sum(1 for r in removed if r < ax))
    if arrays and getattr(arrays[0][1], "ndim", 1) != 1:
        raise g.unsupported("indexing with an index array of more than one dim")
    if newaxes:
        name = g.node("Unsqueeze", [name, g.ints(newaxes, "axes")])
    out.name = name
    out.dyn = tuple(dyn) if len(dyn) == out.ndim else (False,) * out.ndim


def _expm1(g, out, x):
    e = g.node("Exp", [g.value(x)])
    out.name = g.node("Sub", [e, g.scalar(1.0, _dt(g, x))])
    out.dyn = x.dyn


def _log1p(g, out, x):
    a = g.node("Add", [g.value(x), g.scalar(1.0, _dt(g, x))])
    out.name = g.node("Log", [a])
    out.dyn = x.dyn


def _square(g, out, x):
    n = g.value(x)
    out.name = g.node("Mul", [n, n])
    out.dyn = x.dyn


def _positive(g, out, x):
    out.name = g.value(x)
    out.dyn = x.dyn


def _asarray(g, out, obj, /, *, dtype=None, device=None, copy=None):
    if isinstance(obj, Traced):
        _astype(g, out, obj, None)
    else:
        raise g.unsupported("asarray of a nested sequence holding traced values")


def _logaddexp(g, out, a, b):
    m = g.node("Max", [_operand(g, a, a if isinstance(a, Traced) else b),
                       _operand(g, b, a if isinstance(a, Traced) else b)])
    da = g.node("Sub", [_operand(g, a, a if isinstance(a, Traced) else b), m])
    db = g.node("Sub", [_operand(g, b, a if isinstance(a, Traced) else b), m])
    s = g.node("Add", [g.node("Exp", [da]), g.node("Exp", [db])])
    out.name = g.node("Add", [m, g.node("Log", [s])])
    out.dyn = _bdyn(a, b)


def _vecdot(g, out, a, b, /, *, axis=-1):
    m = g.node("Mul", [g.value(a), g.value(b)])
    out.name = g.node("ReduceSum", [m, g.ints([axis], "axes")], keepdims=0)
    dyn = list(_bdyn(a, b))
    del dyn[axis]
    out.dyn = tuple(dyn)


def _flip(g, out, x, /, *, axis=None):
    axes = _axes(axis, x.ndim)
    n = len(axes)
    out.name = g.node("Slice", [g.value(x), g.ints([-1] * n, "starts"),
                                g.ints([INT64_MIN] * n, "ends"), g.ints(axes, "axes"),
                                g.ints([-1] * n, "steps")])
    out.dyn = x.dyn


_EMITTERS = {
    "add": _elementwise("Add"), "subtract": _elementwise("Sub"),
    "multiply": _elementwise("Mul"), "divide": _elementwise("Div", True),
    "pow": _elementwise("Pow"), "maximum": _elementwise("Max"),
    "minimum": _elementwise("Min"), "floor_divide": _floor_divide, "remainder": _remainder,
    "logical_and": _elementwise("And"), "logical_or": _elementwise("Or"),
    "logical_xor": _elementwise("Xor"), "bitwise_and": _elementwise("And"),
    "bitwise_or": _elementwise("Or"), "bitwise_xor": _elementwise("Xor"),
    "equal": _compare("Equal"), "not_equal": _compare("Equal", True),
    "less": _compare("Less"), "less_equal": _compare("LessOrEqual"),
    "greater": _compare("Greater"), "greater_equal": _compare("GreaterOrEqual"),
    "abs": _unary("Abs"), "acos": _unary("Acos"), "acosh": _unary("Acosh"),
    "asin": _unary("Asin"), "asinh": _unary("Asinh"), "atan": _unary("Atan"),
    "atanh": _unary("Atanh"), "ceil": _unary("Ceil"), "cos": _unary("Cos"),
    "cosh": _unary("Cosh"), "exp": _unary("Exp"), "floor": _unary("Floor"),
    "log": _unary("Log"), "negative": _unary("Neg"), "sign": _unary("Sign"),
    "sin": _unary("Sin"), "sinh": _unary("Sinh"), "sqrt": _unary("Sqrt"),
    "tan": _unary("Tan"), "tanh": _unary("Tanh"), "logical_not": _unary("Not"),
    "bitwise_invert": _unary("Not"), "isnan": _unary("IsNaN"), "isinf": _unary("IsInf"),
    "round": _unary("Round"), "reciprocal": _unary("Reciprocal"), "erf": _unary("Erf"),
    "expm1": _expm1, "log1p": _log1p, "square": _square, "positive": _positive,
    "logaddexp": _logaddexp,
    "sum": _reduce("ReduceSum"), "mean": _reduce("ReduceMean"), "max": _reduce("ReduceMax"),
    "min": _reduce("ReduceMin"), "prod": _reduce("ReduceProd"), "var": _var, "std": _std,
    "reshape": _reshape, "permute_dims": _permute, "expand_dims": _expand_dims,
    "squeeze": _squeeze, "concat": _concat, "stack": _stack, "where": _where,
    "astype": _astype, "matmul": _matmul, "broadcast_to": _broadcast_to, "take": _take,
    "take_along_axis": _take_along_axis, "clip": _clip, "argmax": _argminmax("ArgMax"),
    "argmin": _argminmax("ArgMin"), "cumulative_sum": _cumsum,
    "zeros_like": _like(0), "ones_like": _like(1), "full_like": _like(None),
    "empty_like": _like(0), "__getitem__": _getitem, "asarray": _asarray, "vecdot": _vecdot,
    "flip": _flip,
}

