"""Reading by index: ``x[key]`` (basic, integer-array and boolean-mask keys), gather,
take, index_select, and the accumulating writes that are their gradients (scatter_add,
index_add, add_at), all differentiable. Writing ``x[key] = v`` is in ``interop._ops.mutation``.

Index arrays a node needs in backward are recorded as constants in ``saved``: an
ordinary backward reads them as raw arrays, a recorded one (create_graph) as tensors.
"""

from .. import dtypes as _dt
from .._args import norm_dim, mixed_backends, SCALAR_TYPES
from .flip import flip
from .views import make_view, broadcast_to, reshape
from ..autograd.graph import Node
from ..autograd.grad_mode import state as grad_state
from ..autograd.variable import Variable, record

__all__ = ["getitem", "normalize_key", "gather", "take_along_axis", "scatter_add", "index_add",
           "take", "index_select", "add_at", "scatter", "nonzero", "windows", "windows_add"]


def _index_array(be, k):
    """An index or mask given as a list, range or foreign array, as an array of ``be``."""
    if isinstance(k, (list, range)):
        if len(k) == 0:
            return be.xp.asarray([], dtype=be.native_dtype(be.default_int), **be.device_kwargs)
        return be.xp.asarray(list(k), **be.device_kwargs)
    return be.convert(k)


def normalize_key(x, key):
    """A key for the backend: tensors become arrays, lists and array-likes become integer or
    bool arrays of x's backend, and a trailing ``...`` is added where the key covers fewer
    dims (the standard needs it). Always returns a tuple."""
    if not isinstance(key, tuple):
        key = (key,)
    be = x._be
    out = []
    used = 0
    ell = False
    for k in key:
        kc = k.__class__
        if kc is int or kc is slice:
            out.append(k)
            used += 1
            continue
        if k is None:
            out.append(None)
            continue
        if k is Ellipsis:
            if ell:
                raise IndexError("an index can only have a single ellipsis ('...')")
            ell = True
            out.append(k)
            continue
        if kc is bool:
            raise IndexError("indexing with a Python bool is not supported; use None or a bool tensor")
        if isinstance(k, Variable):
            if k._be is not be:
                raise mixed_backends(x, k, "indexing")
            arr = k._data
        elif kc is not list and kc is not range and hasattr(k, "__index__"):
            out.append(k.__index__())
            used += 1
            continue
        elif kc is list or kc is range or hasattr(k, "__array__") or hasattr(k, "__dlpack__"):
            arr = _index_array(be, k)
        else:
            raise IndexError(f"unsupported index of type {type(k).__name__}: {k!r}; expected int, "
                             f"slice, None, ..., a list or an integer/bool Tensor")
        dt = be.dtype_of(arr)
        if dt is _dt.bool:
            used += arr.ndim
        elif dt.kind in "iu":
            used += 1
            arr = _as_int64(be, arr, dt)
        else:
            raise IndexError(f"tensors used as indices must be integer or bool, got dtype {dt}")
        out.append(arr)
    nd = x._data.ndim
    if used > nd:
        raise IndexError(f"too many indices for tensor of dimension {nd} (shape "
                         f"{tuple(x._data.shape)}): the index covers {used} dims")
    if not ell and (used < nd or is_basic(out)):
        # (also for basic keys: with a trailing ``...`` NumPy returns a 0-d view, not a copy)
        out.append(Ellipsis)
    return tuple(out)


def is_basic(key):
    """True for keys of ints, slices, None and ``...`` only (their results are views)."""
    for k in key:
        c = k.__class__
        if not (c is int or c is slice or k is None or k is Ellipsis):
            return False
    return True


def check_bounds(x, key):
    """Integer indices out of range name the dim and the size (NumPy would too; strict may not).
    Returns the key, with slice bounds past the ends clipped (Python's rule; the standard
    leaves such slices unspecified and array-api-strict refuses them)."""
    dim = 0
    shp = x._data.shape
    out = None
    for i, k in enumerate(key):
        if k is Ellipsis:
            dim = len(shp) - sum(1 for q in key[i + 1:] if q is not None)
            continue
        if k is None:
            continue
        if k.__class__ is int:
            n = shp[dim]
            if not -n <= k < n:
                raise IndexError(f"index {k} is out of bounds for dimension {dim} with size {n}")
        elif k.__class__ is slice:
            n = shp[dim]
            if not ((k.start is None or -n <= k.start < n) and (k.stop is None or -n <= k.stop < n)):
                if out is None:
                    out = list(key)
                out[i] = _clip_slice(k, n)
        dim += 1
    return key if out is None else tuple(out)


def _clip_slice(s, n):
    start, stop, step = s.indices(n)
    if (step > 0 and start >= stop) or (step < 0 and start <= stop):
        return slice(0, 0, 1)
    if step > 0:
        return slice(start, None if stop >= n else stop, step)
    return slice(start, None if stop < 0 else stop, step)


def zero_base(xp, shape, like):
    """The zeros an accumulating kernel (``add_at``, ``index_add``, ``scatter_add``) adds a
    gradient into: a broadcast 0-d zero of ``like``'s dtype, so that the kernel's copy of
    its (unchanged) input is a fill, not a copy of a zeroed table (an embedding gradient
    paid both)."""
    return xp.broadcast_to(xp.zeros((), dtype=like.dtype, device=like.device), tuple(shape))


class GetItemBackward(Node):
    """``basic``: False (array keys), True, or -- for a basic key that had ``None`` entries,
    stored without them -- the shape to which g's inserted unit axes are dropped.
    ``s.key`` is the key."""
    __slots__ = ("shape", "basic")
    saves = ("key",)

    def backward(self, xp, g, s):
        key = s.key
        if self.basic.__class__ is tuple:
            g = xp.reshape(g, self.basic)
        if self.basic is not False and xp is self.be.ns and self.be.mutable:
            # (a zeroed array written through the key: the fast way where arrays take item
            # assignment; immutable ones (JAX) accumulate into zeros with add_at below)
            z = xp.zeros(self.shape, dtype=g.dtype, device=g.device)
            z[key] = g
            return z,
        return xp.add_at(zero_base(xp, self.shape, g), key, g),


def positive_steps(x, key):
    """A basic ``key`` with negative-step slices (which some namespaces refuse, torch's among
    them) as (the same key with each such slice replaced by a positive-step slice over the
    same elements, the axes of ``x[new_key]`` to flip to get ``x[key]``)."""
    out, flips = [], []
    dim = axis = 0
    shape = x._data.shape
    for i, k in enumerate(key):
        if k is Ellipsis:
            n = len(shape) - sum(1 for q in key[i + 1:] if q is not None and q is not Ellipsis) - dim
            dim += n
            axis += n
        elif k is None:
            axis += 1
        elif k.__class__ is int:
            dim += 1
        else:
            if k.step is not None and k.step < 0:
                r = range(*k.indices(shape[dim]))
                k = slice(r[-1], r[0] + 1, -k.step) if len(r) else slice(0, 0)
                flips.append(axis)
            dim += 1
            axis += 1
        out.append(k)
    return tuple(out), tuple(flips)


def _has_negative_step(key):
    return any(k.__class__ is slice and k.step is not None and k.step < 0 for k in key)


def getitem(x, key):
    k = normalize_key(x, key)
    basic = is_basic(k)
    if basic:
        k = check_bounds(x, k)
    try:
        data = x._data[k] if basic else x._be.getitem(x._data, k)
    except Exception as e:
        if basic and not x._be.negative_steps and _has_negative_step(k):
            # the namespace cannot view negative steps: a flipped copy, read-only so that a
            # write meant for x does not land in it
            pk, axes = positive_steps(x, k)
            out = flip(getitem(x, pk), axis=axes)
            out._readonly = (f"backend {x._be.name!r} cannot view negative-step slices: this is a "
                             f"copy")
            return out
        raise IndexError(f"index {key!r} for tensor of shape {tuple(x._data.shape)}: {e}") from None
    node = None
    if x._node is not None and grad_state.enabled:
        wk = k
        shape = basic
        if basic and any(q is None for q in k):
            # (some namespaces refuse None in a write key: write through the key without it)
            wk = tuple(q for q in k if q is not None)
            shape = tuple(x._data[wk].shape)
        node = record(GetItemBackward, x._be, (x,), (wk,), (wk,))
        node.shape, node.basic = x._data.shape, shape
    if basic:
        return make_view(data, x, node, ("index", k))
    return x._make(data, x._be, node)


# ------------------------------------------------------------ gather/scatter

def index_data(index, x, op, name="index"):
    """The raw array of an integer index tensor on x's backend (clear errors otherwise)."""
    if not isinstance(index, Variable):
        raise TypeError(f"{op}: {name} must be an integer Tensor, got {type(index).__name__}")
    if index._be is not x._be:
        raise mixed_backends(x, index, op)
    dt = index._be.dtype_of(index._data)
    if dt.kind not in "iu":
        raise TypeError(f"{op}: {name} must have an integer dtype, got {dt}")
    return _as_int64(index._be, index._data, dt)


def _as_int64(be, arr, dt):
    """Integer indices as int64 (the standard allows any integer dtype; torch's namespace
    takes only int64 in some ops and reads uint8 indices as a boolean mask)."""
    if dt is _dt.int64 or _dt.int64 not in be.to_native:
        return arr
    return be.xp.astype(arr, be.native_dtype(_dt.int64))


def _in_range(be, idx, n, op, name="index", negative=False):
    """``idx`` checked against a dimension of size ``n``: an IndexError naming the first bad
    entry for entries outside ``[0, n)`` -- or, with ``negative=True`` (take, as PyTorch's),
    outside ``[-n, n)``, negative entries then counting from the end."""
    xp = be.xp
    if idx.ndim and all(idx.shape):
        lo = -n if negative else 0
        bad = (idx >= n) | (idx < lo)
        if bool(xp.any(bad)):
            first = int(xp.max(xp.where(bad, idx, xp.full_like(idx, lo))) if bool(xp.any(idx >= n))
                        else xp.min(idx))
            raise IndexError(f"{op}: {name} {first} is out of bounds for a dimension of size {n} "
                             f"(expected {'-n <= i < n' if negative else '0 <= i < n'})")
        if negative:
            idx = xp.where(idx < 0, idx + n, idx)
    return idx


def _index_fits(idx, x, ax, op):
    """gather/scatter: outside ``ax`` the index may not be larger than the input."""
    for d, (i, n) in enumerate(zip(idx.shape, x._data.shape)):
        if d != ax and i > n:
            raise ValueError(f"{op}: index shape {tuple(idx.shape)} exceeds input shape "
                             f"{tuple(x._data.shape)} in dim {d}")


class GatherBackward(Node):
    __slots__ = ("axis", "shape")
    saves = ("index",)

    def backward(self, xp, g, s):
        return xp.scatter_add(zero_base(xp, self.shape, g), self.axis, s.index, g),


def gather(x, dim, index):
    """``out[i][j] = x[index[i][j]][j]`` along ``dim`` (torch.gather)."""
    idx = index_data(index, x, "gather")
    nd = x._data.ndim
    ax = norm_dim(dim, nd, "gather")
    if idx.ndim != nd:
        raise ValueError(f"gather: index must have as many dims as input; got index shape "
                         f"{tuple(idx.shape)} and input shape {tuple(x._data.shape)}")
    _index_fits(idx, x, ax, "gather")
    if nd == 0:
        return x._make(x._data, x._be, None) if x._node is None else x * 1
    idx = _in_range(x._be, idx, x._data.shape[ax], "gather")
    src = x._data[tuple(slice(0, n) if d != ax else slice(None) for d, n in enumerate(idx.shape))]
    data = x._be.xp.take_along_axis(src, idx, axis=ax)
    if x._node is None or not grad_state.enabled:
        return x._make(data, x._be, None)
    node = record(GatherBackward, x._be, (x,), (idx,), (idx,))
    node.axis, node.shape = ax, x._data.shape
    return x._make(data, x._be, node)


def take_along_axis(x, indices, /, *, axis=-1):
    """The standard's ``take_along_axis``: as ``gather``, with ``x`` and ``indices``
    broadcast against each other outside ``axis`` and negative indices counted from the end
    (``gather``, PyTorch's, refuses those)."""
    ax = norm_dim(axis, x._data.ndim, "take_along_axis")
    idx = index_data(indices, x, "take_along_axis", "indices")
    n = x._data.shape[ax] if x._data.ndim else 1
    xp = x._be.xp
    if idx.ndim and bool(xp.any(idx < 0)):
        if bool(xp.any(idx < -n)):
            raise IndexError(f"take_along_axis: index {int(xp.min(idx))} is out of bounds for "
                             f"axis {ax} of size {n} (expected -n <= i < n)")
        idx = xp.where(idx < 0, idx + n, idx)
        indices = indices._make(idx, x._be, None)
    if idx.shape != x._data.shape:
        both = [b if a == 1 else a for a, b in zip(idx.shape, x._data.shape)]
        from_shape = tuple(both[d] if d != ax else idx.shape[d] for d in range(len(both)))
        x_shape = tuple(both[d] if d != ax else x._data.shape[d] for d in range(len(both)))
        return gather(broadcast_to(x, x_shape), ax, broadcast_to(indices, from_shape))
    return gather(x, ax, indices)


def _src_grad(xp, g, index, axis, src_shape):
    """The gradient of a scattered ``src``: ``g`` gathered at ``index`` (zeros for the src
    entries past the index's shape, which were not used)."""
    # along ``axis`` the index addresses all of g; elsewhere only its first entries
    key = tuple(slice(None) if d == axis else slice(0, n) for d, n in enumerate(index.shape))
    gsrc = xp.take_along_axis(g[key], index, axis=axis)
    if tuple(gsrc.shape) != tuple(src_shape):
        gsrc = xp.add_at(zero_base(xp, src_shape, g), tuple(slice(0, n) for n in index.shape),
                         gsrc)
    return gsrc


class ScatterAddBackward(Node):
    __slots__ = ("axis", "src_shape")
    saves = ("index",)

    def backward(self, xp, g, s):
        gsrc = None
        if self.next[1] is not None:
            gsrc = _src_grad(xp, g, s.index, self.axis, self.src_shape)
        return g, gsrc


def scatter_add(x, dim, index, src):
    """``torch.scatter_add`` out of place: ``out[index[i][j]][j] += src[i][j]`` along ``dim``."""
    idx = index_data(index, x, "scatter_add")
    if not isinstance(src, Variable):
        raise TypeError(f"scatter_add: src must be a Tensor, got {type(src).__name__}")
    if src._be is not x._be:
        raise mixed_backends(x, src, "scatter_add")
    nd = x._data.ndim
    ax = norm_dim(dim, nd, "scatter_add")
    if idx.ndim != nd or src._data.ndim != nd:
        raise ValueError(f"scatter_add: index, src and input must have the same number of dims; got "
                         f"{tuple(idx.shape)}, {tuple(src._data.shape)} and {tuple(x._data.shape)}")
    if any(i > n for i, n in zip(idx.shape, src._data.shape)):
        raise ValueError(f"scatter_add: index shape {tuple(idx.shape)} exceeds src shape "
                         f"{tuple(src._data.shape)}")
    if src._data.dtype != x._data.dtype:
        raise TypeError(f"scatter_add: src dtype {src._be.dtype_of(src._data)} differs from input "
                        f"dtype {x._be.dtype_of(x._data)}")
    if nd:
        idx = _in_range(x._be, idx, x._data.shape[ax], "scatter_add")
    data = x._be.ns.scatter_add(x._data, ax, idx, src._data)
    if not grad_state.enabled or (x._node is None and src._node is None):
        return x._make(data, x._be, None)
    node = record(ScatterAddBackward, x._be, (x, src), (idx,), (idx,))
    node.axis, node.src_shape = ax, src._data.shape
    return x._make(data, x._be, node)


class ScatterBackward(Node):
    """``scatter``: the input's gradient is ``g`` where nothing was written; src's is ``g``
    gathered at ``index``, for every src entry (repeated indices too: PyTorch's formula).
    ``s.index`` is the index, ``s.written`` the mask of the written elements."""
    __slots__ = ("axis", "src_shape")
    saves = ("index", "written")

    def backward(self, xp, g, s):
        index, hit = s.index, s.written
        gx = xp.where(hit, xp.zeros_like(g), g) if self.next[0] is not None else None
        gsrc = None
        if self.next[1] is not None:
            gsrc = _src_grad(xp, g, index, self.axis, self.src_shape)
        return gx, gsrc


class ScatterMultiplyBackward(Node):
    __slots__ = ()

    def backward(self, xp, g, s):
        raise RuntimeError("scatter(reduce='multiply') is not differentiable (PyTorch has no "
                           "derivative for it either)")


def _write_ranks(be, lin):
    """For each entry of ``lin`` (flat positions, 1-d): how many earlier entries name the
    same position, and whether it is the last to name it (the write that wins)."""
    xp = be.xp
    order = xp.argsort(lin, stable=True)
    srt = xp.take(lin, order)
    pos = xp.arange(lin.shape[0], dtype=order.dtype, **be.device_kwargs)
    first = xp.astype(xp.searchsorted(srt, srt, side="left"), order.dtype)
    last = xp.astype(xp.searchsorted(srt, srt, side="right"), order.dtype) - 1
    inv = xp.argsort(order)
    return xp.take(pos - first, inv), xp.take(pos == last, inv)


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """``torch.scatter`` out of place: ``out[index[i][j]][j] = src[i][j]`` along ``dim``
    (``src`` a tensor, or a Python scalar ``value``). Where indices repeat, the last one
    (in row-major order of ``index``) wins, as PyTorch on the CPU. ``reduce='add'`` or
    ``'multiply'`` combines instead of replacing.

    Differentiable in ``input`` and ``src`` (PyTorch's formula: every src entry gets the
    gradient at its target, repeated or not); ``reduce='add'`` is ``scatter_add``'s
    gradient, and ``reduce='multiply'`` has none (as in PyTorch).
    """
    x = input
    if not isinstance(x, Variable):
        raise TypeError(f"scatter: expected a Tensor as input, got {type(x).__name__}")
    if src is not None and value is not None:
        raise TypeError("scatter: give either src or value, not both")
    if src is not None and not isinstance(src, Variable):
        src, value = None, src
    if src is None and value is None:
        raise TypeError("scatter: expected a src tensor or a scalar value")
    if value is not None and value.__class__ not in SCALAR_TYPES:
        raise TypeError(f"scatter: value must be a Python scalar, got {type(value).__name__}")
    if reduce not in (None, "add", "multiply"):
        raise ValueError(f"scatter: reduce must be 'add' or 'multiply', got {reduce!r}")
    idx = index_data(index, x, "scatter")
    be = x._be
    xp = be.xp
    nd = x._data.ndim
    ax = norm_dim(dim, nd, "scatter")
    if src is not None:
        if src._be is not be:
            raise mixed_backends(x, src, "scatter")
        if src._data.dtype != x._data.dtype:
            raise TypeError(f"scatter: src dtype {src._be.dtype_of(src._data)} differs from input "
                            f"dtype {be.dtype_of(x._data)}")
    if idx.ndim != nd or (src is not None and src._data.ndim != nd):
        raise ValueError(f"scatter: index, src and input must have the same number of dims; got "
                         f"index {tuple(idx.shape)}, src "
                         f"{tuple(src._data.shape) if src is not None else '(a scalar)'} and input "
                         f"{tuple(x._data.shape)}")
    if src is not None and any(i > n for i, n in zip(idx.shape, src._data.shape)):
        raise ValueError(f"scatter: index shape {tuple(idx.shape)} exceeds src shape "
                         f"{tuple(src._data.shape)}")
    _index_fits(idx, x, ax, "scatter")
    if nd == 0:
        flat_x = reshape(x, (1,))
        out = scatter(flat_x, 0, index.reshape((1,)), src.reshape((1,)) if src is not None
                      else None, value=value, reduce=reduce)
        return reshape(out, ())
    if reduce == "add":
        if src is None:
            src = x._make(xp.full(idx.shape, value, dtype=x._data.dtype, **be.device_kwargs), be,
                          None)
        return scatter_add(x, ax, index, src)
    idx = _in_range(be, idx, x._data.shape[ax], "scatter")
    if src is not None:
        vals = src._data[tuple(slice(0, n) for n in idx.shape)]
    else:
        vals = xp.full(idx.shape, value, dtype=x._data.dtype, **be.device_kwargs)
    vals = xp.reshape(vals, (-1,))
    lin = be.scatter_positions(tuple(x._data.shape), ax, idx)
    xflat = xp.reshape(x._data, (-1,))
    zeros = xp.zeros_like(xflat)
    one = xp.ones_like(vals)
    hit = be.ns.add_at(zeros, (lin,), one) != 0 if lin.shape[0] else xp.zeros_like(xflat) != 0
    if not lin.shape[0]:
        data = xp.asarray(x._data, copy=True)
    elif reduce is None:
        _, wins = _write_ranks(be, lin)
        placed = be.ns.add_at(zeros, (lin,), xp.where(wins, vals, xp.zeros_like(vals)))
        data = xp.reshape(xp.where(hit, placed, xflat), x._data.shape)
    else:       # multiply: one round per repeat, each round writes distinct positions
        rank, _ = _write_ranks(be, lin)
        acc = xflat
        for r in range(int(xp.max(rank)) + 1):
            sel = rank == r
            placed = be.ns.add_at(zeros, (lin,), xp.where(sel, vals, xp.zeros_like(vals)))
            got = be.ns.add_at(zeros, (lin,), xp.where(sel, one, xp.zeros_like(one))) != 0
            acc = xp.where(got, acc * placed, acc)
        data = xp.reshape(acc, x._data.shape)
    ins = (x, src)
    if not grad_state.enabled or not any(isinstance(t, Variable) and t._node is not None
                                         for t in ins):
        return x._make(data, be, None)
    if reduce == "multiply":
        return x._make(data, be, record(ScatterMultiplyBackward, be, ins))
    mask = xp.reshape(hit, x._data.shape)
    node = record(ScatterBackward, be, ins, (idx, mask), (idx, mask))
    node.axis = ax
    node.src_shape = src._data.shape if src is not None else None
    return x._make(data, be, node)


def nonzero(x, /, *, as_tuple=None):
    """The standard's ``nonzero``: a tuple of integer tensors, the coordinates of the
    nonzero elements, one per dim (a 0-d tensor is a ValueError). ``as_tuple=False`` gives PyTorch's default instead
    (``torch.nonzero(x)``, as ``x.nonzero()``): one ``(count, ndim)`` tensor."""
    if not isinstance(x, Variable):
        raise TypeError(f"nonzero: expected a Tensor, got {type(x).__name__}")
    be = x._be
    xp = be.xp
    itype = be.native_dtype(be.default_int)     # int64, or int32 where the backend lacks it
    xd = x._data
    if xd.ndim == 0:
        if as_tuple is None:       # the standard's form: a 0-d input has no coordinates
            raise ValueError("nonzero: a 0-d tensor has no dims to give coordinates along (the "
                             "standard's rule); x.nonzero() and nonzero(x, as_tuple=True) follow "
                             "PyTorch and treat it as 1-d")
        n = 1 if bool(xd) else 0        # PyTorch's rule: as a 1-element 1-d tensor
        if as_tuple is False:
            return x._make(xp.zeros((n, 0), dtype=itype, **be.device_kwargs), be, None)
        return (x._make(xp.zeros((n,), dtype=itype, **be.device_kwargs), be, None),)
    coords = tuple(xp.astype(c, itype) for c in xp.nonzero(xd))
    if as_tuple is False:
        return x._make(xp.stack(coords, axis=1), be, None)
    return tuple(x._make(c, be, None) for c in coords)


class IndexAddBackward(Node):
    __slots__ = ("axis",)
    saves = ("index",)

    def backward(self, xp, g, s):
        gsrc = xp.take(g, s.index, axis=self.axis) if self.next[1] is not None else None
        return g, gsrc


def index_add(x, dim, index, source, *, alpha=1):
    """``x`` with ``source`` slices added along ``dim`` at ``index`` (duplicates accumulate)."""
    idx = index_data(index, x, "index_add")
    nd = x._data.ndim
    ax = norm_dim(dim, nd, "index_add")
    if not isinstance(source, Variable):
        raise TypeError(f"index_add: source must be a Tensor, got {type(source).__name__}")
    if source._be is not x._be:
        raise mixed_backends(x, source, "index_add")
    if alpha != 1:
        source = source * alpha
    if nd == 0:
        return x + source.reshape(()) if idx.shape == (1,) else x * 1
    if idx.ndim != 1 or source._data.shape[ax] != idx.shape[0]:
        raise ValueError(f"index_add: index must be 1-d with one entry per slice of source along dim "
                         f"{ax}; got index shape {tuple(idx.shape)}, source shape "
                         f"{tuple(source._data.shape)}")
    idx = _in_range(x._be, idx, x._data.shape[ax], "index_add")
    data = x._be.ns.index_add(x._data, ax, idx, source._data)
    if not grad_state.enabled or (x._node is None and source._node is None):
        return x._make(data, x._be, None)
    node = record(IndexAddBackward, x._be, (x, source), (idx,), (idx,))
    node.axis = ax
    return x._make(data, x._be, node)


class WindowsBackward(Node):
    """The gradient of ``windows`` is its adjoint, ``windows_add``."""
    __slots__ = ("shape", "args")

    def backward(self, xp, g, s):
        return xp.windows_add(self.shape, g, *self.args),


def windows(x, kernel, stride, dilation):
    """The sliding windows of ``x`` over its last ``n = len(kernel)`` dims (the ``windows``
    kernel, differentiable): shape ``x.shape[:-n] + kernel + out``, ``out`` the number of
    windows along each dim; ``kernel``, ``stride``, ``dilation`` are tuples of n ints.
    Convolution is a reshape of these and one matmul. The result may read ``x``'s memory
    (its windows overlap), so it refuses writes, and a node that saved it sees in-place
    changes of ``x`` (the version check)."""
    if not isinstance(x, Variable):
        raise TypeError(f"windows: expected a Tensor, got {type(x).__name__}")
    be = x._be
    data = be.ns.windows(x._data, kernel, stride, dilation)
    node = None
    if x._node is not None and grad_state.enabled:
        node = record(WindowsBackward, be, (x,))
        node.shape, node.args = tuple(x._data.shape), (kernel, stride, dilation)
    out = x._make(data, be, node)
    out._vroot = x if x._vroot is None else x._vroot
    out._readonly = "the windows of a tensor may overlap in its memory; clone() them first"
    return out


class WindowsAddBackward(Node):
    """The gradient of ``windows_add`` is ``windows`` of the gradient."""
    __slots__ = ("args",)

    def backward(self, xp, g, s):
        return xp.windows(g, *self.args),


def windows_add(shape, cols, kernel, stride, dilation):
    """The adjoint of :func:`windows` (col2im; the ``windows_add`` kernel, differentiable):
    zeros of ``shape`` with every entry of ``cols`` added where ``windows`` of an array of
    ``shape`` reads it from, overlapping windows accumulating."""
    if not isinstance(cols, Variable):
        raise TypeError(f"windows_add: cols must be a Tensor, got {type(cols).__name__}")
    be = cols._be
    data = be.ns.windows_add(shape, cols._data, kernel, stride, dilation)
    node = None
    if cols._node is not None and grad_state.enabled:
        node = record(WindowsAddBackward, be, (cols,))
        node.args = (kernel, stride, dilation)
    return cols._make(data, be, node)


class TakeBackward(Node):
    __slots__ = ("axis", "shape")
    saves = ("index",)

    def backward(self, xp, g, s):
        return xp.index_add(zero_base(xp, self.shape, g), self.axis, s.index, g),


def take(x, indices, /, *, axis=None):
    """Elements of ``x`` at ``indices`` along ``axis`` (over the flattened ``x`` without one);
    negative indices count from the end, as in PyTorch."""
    idx = index_data(indices, x, "take", "indices")
    if axis is None:
        if x._data.ndim != 1:
            x = reshape(x, (-1,))
        axis = 0
    ax = norm_dim(axis, x._data.ndim, "take")
    shape = tuple(idx.shape)
    if idx.ndim != 1:
        idx = x._be.xp.reshape(idx, (-1,))
    idx = _in_range(x._be, idx, x._data.shape[ax], "take", "indices", negative=True)
    data = x._be.xp.take(x._data, idx, axis=ax)
    node = None
    if x._node is not None and grad_state.enabled:
        node = record(TakeBackward, x._be, (x,), (idx,), (idx,))
        node.axis, node.shape = ax, x._data.shape
    out = x._make(data, x._be, node)
    if len(shape) != 1:
        out = reshape(out, x._data.shape[:ax] + shape + x._data.shape[ax + 1:])
    return out


def index_select(x, dim, index):
    """Slices of ``x`` along ``dim`` at ``index`` (entries in ``[0, n)``, as PyTorch's)."""
    idx = index_data(index, x, "index_select")
    if x._data.ndim:
        _in_range(x._be, idx, x._data.shape[norm_dim(dim, x._data.ndim, "index_select")],
                  "index_select")
    return take(x, index, axis=dim)


class AddAtBackward(Node):
    __slots__ = ("vshape",)
    saves = ("key",)

    def backward(self, xp, g, s):
        gv = None
        if self.next[1] is not None:
            gv = xp.sum_to(xp.getitem(g, s.key), self.vshape)
        return g, gv


def add_at(x, key, values):
    """``x`` with ``values`` added at ``x[key]``, repeated indices accumulating (out of place)."""
    k = normalize_key(x, key)
    if isinstance(values, Variable):
        if values._be is not x._be:
            raise mixed_backends(x, values, "add_at")
        vd = values._data
    elif values.__class__ in SCALAR_TYPES:
        vd = values
    else:
        raise TypeError(f"add_at: values must be a Tensor or a Python scalar, got "
                        f"{type(values).__name__}")
    data = x._be.ns.add_at(x._data, k, vd)
    ins = (x, values)
    if not grad_state.enabled or not any(isinstance(t, Variable) and t._node is not None for t in ins):
        return x._make(data, x._be, None)
    node = record(AddAtBackward, x._be, ins, (k,), (k,))
    node.vshape = tuple(vd.shape) if hasattr(vd, "shape") else ()
    return x._make(data, x._be, node)


class IndexingMethods:
    """Tensor methods that read by index."""

    __slots__ = ()

    def __getitem__(self, key):
        return getitem(self, key)

    def gather(self, dim, index):
        return gather(self, dim, index)

    def take_along_dim(self, indices, dim):
        return take_along_axis(self, indices, axis=dim)

    def scatter_add(self, dim, index, src):
        return scatter_add(self, dim, index, src)

    def scatter(self, dim, index, src=None, reduce=None, *, value=None):
        return scatter(self, dim, index, src, value=value, reduce=reduce)

    def nonzero(self, *, as_tuple=False):
        """PyTorch's ``Tensor.nonzero``: a ``(count, ndim)`` tensor of coordinates (a tuple
        of 1-d tensors with ``as_tuple=True``)."""
        return nonzero(self, as_tuple=bool(as_tuple))

    def argwhere(self):
        return nonzero(self, as_tuple=False)

    def index_select(self, dim, index):
        return index_select(self, dim, index)

    def index_add(self, dim, index, source, *, alpha=1):
        return index_add(self, dim, index, source, alpha=alpha)

    def take(self, index):
        return take(self, index)
