"""``export``: run the model once on a tracing backend and write what it did as ONNX."""

import inspect
import io
import os

import interop as it
from interop import backends
from interop import nn
from interop.utils._pytree import tensors_in

from ._graph import OPAQUE, Graph, Traced, TracingNamespace, UnsupportedOperatorError
from interop.nn.functional import _hook as _functional_hook

from ._layers import FUNCTIONAL, converter_for

DEFAULT_OPSET = 18
MIN_OPSET = 18



def _refill(obj, tensors):
    """``obj`` with each tensor replaced by the next of the iterator ``tensors``, in
    :func:`tensors_in`'s order (a nested ``(input, (h0, c0))`` keeps its structure)."""
    if isinstance(obj, it.Tensor):
        return next(tensors)
    if isinstance(obj, (tuple, list)):
        items = [_refill(o, tensors) for o in obj]
        return type(obj)(items) if type(obj) in (tuple, list) else type(obj)(*items)
    if isinstance(obj, dict):
        return {k: _refill(v, tensors) for k, v in obj.items()}
    return obj


def _axes_spec(spec, name, ndim):
    """``dynamic_axes[name]`` as {axis: symbolic name}."""
    if spec is None:
        return {}
    if isinstance(spec, dict):
        out = {}
        for k, v in spec.items():
            if not isinstance(k, int) or not -ndim <= k < ndim:
                raise ValueError(f"export: dynamic_axes[{name!r}] names axis {k!r}, but "
                                 f"{name!r} has {ndim} dims")
            out[k % ndim] = str(v)
        return out
    if isinstance(spec, (list, tuple)):
        return {int(k) % ndim: f"{name}_dynamic_axes_{int(k) % ndim + 1}" for k in spec}
    raise TypeError(f"export: dynamic_axes[{name!r}] must be a dict {{axis: name}} or a list "
                    f"of axes, got {type(spec).__name__}")


class _Tracer:
    """The module hooks: a layer with a native converter runs with recording suppressed
    (its values still computed), then its converter writes its nodes."""

    def __init__(self, g, ns, tbe, model):
        self.g, self.ns, self.tbe = g, ns, tbe
        self.paths = {id(m): p for p, m in model.named_modules(remove_duplicate=False)}
        self.stack = []
        self.handles = []
        for m in model.modules():
            self.handles.append(m.register_forward_pre_hook(self.pre, with_kwargs=True))
            self.handles.append(m.register_forward_hook(self.post, with_kwargs=True))

    def remove(self):
        for h in self.handles:
            h.remove()

    def pre(self, m, args, kwargs):
        self.g.path.append((self.paths.get(id(m), "?"), type(m).__name__))
        native = self.ns.suppress == 0 and converter_for(m) is not None
        if native:
            try:
                bound = inspect.signature(m.forward).bind(*args, **kwargs)
            except TypeError:
                native = False
            else:
                bound.apply_defaults()
                for t in tensors_in(list(bound.arguments.values())):
                    if isinstance(t._data, Traced) and t._data.name is OPAQUE:
                        self.g.value(t._data)   # raises
                self.stack.append((m, bound.arguments))
                self._suppress(1)
        if not native:
            self.stack.append(None)

    def post(self, m, args, kwargs, output):
        entry = self.stack.pop()
        try:
            if entry is None:
                return
            self._suppress(-1)
            mod, arguments = entry
            outs = tensors_in(output)
            res = converter_for(mod)(self.g, mod, arguments, outs)
            if len(res) != len(outs):
                raise RuntimeError(f"interop.onnx: the converter of {type(mod).__name__} wrote "
                                   f"{len(res)} outputs, the layer returned {len(outs)}")
            self._name_outputs(outs, res)
        finally:
            self.g.path.pop()

    def _suppress(self, step):
        """Enter (1) or leave (-1) a native layer. Inside one, nothing is recorded and arrays
        are written in place as usual; outside, the backend says its arrays are immutable,
        so that interop's in-place ops rebind a tensor's array (as on JAX) and the graph
        gets the new value as a new node."""
        self.ns.suppress += step
        self.tbe.mutable = self.ns.suppress > 0

    def _name_outputs(self, outs, res):
        for t, (name, dyn) in zip(outs, res):
            # (an in-place layer returns its input: it now holds the new value)
            t._data.name = name
            t._data.dyn = tuple(dyn)

    def functional(self, name, fn, args, kwargs):
        """The functional hook: a call with a native form is written as it."""
        if self.ns.suppress:
            return fn(*args, **kwargs)
        bound = inspect.signature(fn).bind(*args, **kwargs)
        bound.apply_defaults()
        a = bound.arguments
        for k, v in a.items():      # a tensor made outside the export (a closure's): a constant
            if isinstance(v, it.Tensor) and not isinstance(v._data, Traced):
                a[k] = it.Tensor._make(self.ns.wrap(v._data), self.tbe, None)
        args, kwargs = bound.args, bound.kwargs
        tensors = tensors_in(list(a.values()))
        if not tensors or a[next(iter(a))]._data.name is None:
            return fn(*args, **kwargs)     # on constants: computed, not recorded
        spec = FUNCTIONAL[name](a)
        if spec is None:
            return fn(*args, **kwargs)
        conv, call = spec
        for t in tensors:
            if t._data.name is OPAQUE:
                self.g.value(t._data)   # raises
        self._suppress(1)
        try:
            out = fn(*args, **kwargs)
        finally:
            self._suppress(-1)
        outs = tensors_in(out)
        self._name_outputs(outs, conv(self.g, call, {"input": a[next(iter(a))]}, outs))
        return out


def export(model, args, f, input_names=None, output_names=None, dynamic_axes=None,
           opset_version=None, *, export_params=True, do_constant_folding=True, verbose=False,
           training=None, keep_initializers_as_inputs=False, kwargs=None):
    """Export ``model`` (an :class:`interop.nn.Module` or a function of tensors) to ONNX, as
    ``torch.onnx.export`` does: run it once on ``args`` (a tensor or a tuple of them) and
    write the graph of what it computed to ``f`` (a path or a binary file object).

    The model runs in eval mode during the export (its mode is restored afterwards), on its
    own weights, which become the graph's initializers under their ``state_dict`` names.
    Layers that ONNX has as operators are written as those operators (Linear as Gemm or
    MatMul, Conv, pooling, normalization, activations, LSTM/GRU/RNN, attention as
    MatMul/Softmax...); what the forward does between layers (reshapes, concatenation,
    indexing, arithmetic) is recorded op by op. Anything ONNX cannot express raises
    :class:`UnsupportedOperatorError` naming it and the module path where it was met.

    ``input_names``/``output_names`` name the graph's inputs and outputs (default
    ``input_0``..., ``output_0``...). ``dynamic_axes`` maps an input or output name to the
    axes whose size may change (``{"input": {0: "batch"}}`` or ``{"input": [0]}``).
    ``opset_version``: the ONNX opset (default 18; 20 and above write ``Gelu`` as one
    node, 21 and above ``GroupNormalization``). Returns the ``onnx.ModelProto``, checked by
    ``onnx.checker`` (``f=None`` writes nothing else).

    Python control flow runs once, on the example inputs: a branch on a tensor's values is
    recorded as the branch taken. Only ``export_params=True`` is supported; the other
    keyword arguments of ``torch.onnx.export`` are accepted for compatibility.
    """
    if opset_version is None:
        opset_version = DEFAULT_OPSET
    try:
        import onnx
    except ImportError:
        raise ImportError("interop.onnx.export needs the 'onnx' package: pip install onnx "
                          "(or pip install 'interop[onnx]', which also brings onnxruntime "
                          "to run the exported model)") from None
    top = onnx.defs.onnx_opset_version()
    if not isinstance(opset_version, int) or not MIN_OPSET <= opset_version <= top:
        raise ValueError(f"export: opset_version must be an int from {MIN_OPSET} to {top} "
                         f"(the onnx package installed here), got {opset_version!r}")
    if training not in (None, False) and str(training).rsplit(".", 1)[-1].upper() != "EVAL":
        raise ValueError(f"export: only eval-mode export is supported (training=None or "
                         f"TrainingMode.EVAL), got training={training!r}")
    if not export_params:
        raise ValueError("export: export_params=False is not supported (the weights are "
                         "always written as initializers)")
    if isinstance(args, it.Tensor):
        args = (args,)
    elif not isinstance(args, tuple):
        raise TypeError(f"export: args must be a Tensor or a tuple of them, got "
                        f"{type(args).__name__}")
    kwargs = dict(kwargs or {})
    if args and isinstance(args[-1], dict):
        kwargs.update(args[-1])
        args = args[:-1]
    inputs = tensors_in(list(args) + list(kwargs.values()))
    if not inputs:
        raise ValueError("export: args holds no tensor to feed the graph")
    be = inputs[0]._be
    for t in inputs:
        if t._be is not be:
            raise ValueError(f"export: all inputs must be on one backend, got {be.name!r} and "
                             f"{t._be.name!r}")
    if input_names is None:
        input_names = [f"input_{i}" for i in range(len(inputs))]
    input_names = list(input_names)
    if len(input_names) != len(inputs):
        raise ValueError(f"export: {len(input_names)} input_names for {len(inputs)} input "
                         f"tensors")
    dynamic_axes = dict(dynamic_axes or {})

    g = Graph(be, opset_version)
    ns = TracingNamespace(g)
    tbe = backends.Backend(f"onnx-trace:{be.name}", ns)
    tbe.mutable = False        # (see _Tracer._suppress)
    is_module = isinstance(model, nn.Module)

    # Swap every parameter and buffer onto the tracing backend (restored in `finally`).
    swapped = []
    state_names = {}
    if is_module:
        for name, t in list(model.named_parameters()) + list(model.named_buffers()):
            if t is None or id(t) in state_names:
                continue
            state_names[id(t)] = name
    graph_inputs = []
    tracer = None
    was_training = is_module and model.training
    try:
        if is_module:
            for p in (t for m in model.modules() for t in
                      list(m._parameters.values()) + list(m._buffers.values())):
                if p is None or any(p is s[0] for s in swapped):
                    continue
                swapped.append((p, p._data, p._be))
                name = state_names.get(id(p))
                if name is None:                 # a tensor slot outside the state_dict
                    p._data = ns.wrap(p._data)
                else:
                    g.weights[name] = p._data
                    p._data = ns.wrap(p._data, name=name)
                p._be = tbe
        feed = []
        for t, name in zip(inputs, input_names):
            spec = _axes_spec(dynamic_axes.get(name), name, t.ndim)
            dyn = tuple(i in spec for i in range(t.ndim))
            g.dynamic_sizes.update(t.shape[i] for i in spec)
            tt = it.Tensor._make(ns.wrap(t._data, name=name, dyn=dyn), tbe, None)
            feed.append(tt)
            dims = [spec.get(i, t.shape[i]) for i in range(t.ndim)]
            graph_inputs.append(onnx.helper.make_tensor_value_info(
                name, g.onnx_dtype(g.dtype_name(t._data)), dims))
        it_feed = iter(feed)
        call_args = [_refill(a, it_feed) for a in args]
        call_kwargs = {k: _refill(v, it_feed) for k, v in kwargs.items()}
        if is_module:
            model.eval()
        tracer = _Tracer(g, ns, tbe, model if is_module else nn.Module())
        previous_hook = _functional_hook.set_hook(tracer.functional)
        try:
            with backends.use_backend(tbe), it.no_grad():
                out = model(*call_args, **call_kwargs)
        finally:
            _functional_hook.set_hook(previous_hook)
        outs = tensors_in(out)
        if not outs:
            raise ValueError("export: the model returned no tensor")
        if output_names is None:
            output_names = [f"output_{i}" for i in range(len(outs))]
        output_names = list(output_names)
        if len(output_names) != len(outs):
            raise ValueError(f"export: {len(output_names)} output_names for {len(outs)} output "
                             f"tensors")
        unknown = sorted(set(dynamic_axes) - set(input_names) - set(output_names))
        if unknown:
            raise ValueError(f"export: dynamic_axes names {unknown}, which are neither input "
                             f"names {input_names} nor output names {output_names}")
        graph_outputs = []
        renames = {}
        for t, name in zip(outs, output_names):
            arr = t._data
            if not isinstance(arr, Traced) or arr.name is None:
                raise UnsupportedOperatorError(
                    f"ONNX export: output {name!r} does not depend on the inputs (a constant)")
            src = g.value(arr)
            producers = {o for n in g.nodes for o in n.output}
            if src in producers and src not in renames and src not in output_names:
                renames[src] = name
            else:
                g.node("Identity", [renames.get(src, src)])
                g.nodes[-1].output[0] = name
            spec = _axes_spec(dynamic_axes.get(name), name, arr.ndim)
            dims = [spec.get(i, f"{name}_dim{i}" if arr.dyn[i] else arr.shape[i])
                    for i in range(arr.ndim)]
            graph_outputs.append(onnx.helper.make_tensor_value_info(
                name, g.onnx_dtype(g.dtype_name(arr.v)), dims))
        for n in g.nodes:
            for i, x in enumerate(n.input):
                if x in renames:
                    n.input[i] = renames[x]
            for i, x in enumerate(n.output):
                if x in renames:
                    n.output[i] = renames[x]
    finally:
        if tracer is not None:
            tracer.remove()
        for p, data, pbe in swapped:
            p._data, p._be = data, pbe
        if was_training:
            model.train()

    model_proto = _assemble(onnx, g, graph_inputs, graph_outputs, opset_version,
                            keep_initializers_as_inputs)
    onnx.checker.check_model(model_proto)
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as fh:
            fh.write(model_proto.SerializeToString())
    elif isinstance(f, io.IOBase) or hasattr(f, "write"):
        f.write(model_proto.SerializeToString())
    elif f is not None:
        raise TypeError(f"export: f must be a path or a binary file object, got "
                        f"{type(f).__name__}")
    return model_proto


def _residual_sums(nodes, initializers):
    """An ``Add`` of two computed values whose only reader is a ``LayerNormalization`` (a
    Transformer's residual connection) becomes ``Sum``, the same sum: onnxruntime (1.32,
    CPU) fuses Add + LayerNormalization into its SkipLayerNormalization kernel, which ran
    12x slower than the two nodes apart here (299 us against 24 us at 32x16x64)."""
    consts = {t.name for t in initializers}
    readers = {}
    for n in nodes:
        for x in n.input:
            readers.setdefault(x, []).append(n)
    for n in nodes:
        if n.op_type == "Add" and not consts.intersection(n.input):
            r = readers.get(n.output[0], [])
            if len(r) == 1 and r[0].op_type == "LayerNormalization" and \
                    r[0].input[0] == n.output[0]:
                n.op_type = "Sum"


def _live(nodes, outputs):
    """``nodes`` less those whose outputs nothing reads (a peephole's leftovers, values
    computed for checks)."""
    needed = set(outputs)
    keep = []
    for n in reversed(nodes):
        if needed.intersection(n.output):
            keep.append(n)
            needed.update(n.input)
    return keep[::-1]


def _assemble(onnx, g, graph_inputs, graph_outputs, opset, keep_initializers_as_inputs):
    g.nodes[:] = _live(g.nodes, [o.name for o in graph_outputs])
    _residual_sums(g.nodes, g.initializers)
    used = {x for n in g.nodes for x in n.input} | {o.name for o in graph_outputs}
    for name, raw in g.weights.items():     # the weights, under their state_dict names
        if name in used:
            g.add_initializer(name, raw)
    inits = [t for t in g.initializers if t.name in used]
    inputs = list(graph_inputs)
    if keep_initializers_as_inputs:
        inputs += [onnx.helper.make_tensor_value_info(t.name, t.data_type, t.dims)
                   for t in inits]
    graph = onnx.helper.make_graph(g.nodes, "interop", inputs, graph_outputs, inits)
    return onnx.helper.make_model(graph, producer_name="interop",
                                  opset_imports=[onnx.helper.make_opsetid("", opset)])
