"""A TensorBoard ``GraphDef`` of a model, from the graph its forward records for autograd.

The model runs once on the example inputs with gradients enabled (floating inputs become
leaves that require grad, so they appear in the graph). Forward pre- and post-hooks on
every sub-module draw a number from autograd's creation counter, so each call of a module
owns the interval of node numbers between its start and its end; a recorded node belongs
to the innermost call whose interval holds its number (module calls nest, so the intervals
do). The graph is then read back from the outputs along each node's input edges.

Nodes of the GraphDef:

* one per recorded operation, named ``<scope>/<Op>`` (``Net/Linear[fc1]/Linear``, a
  ``_1``, ``_2`` suffix where a scope runs an op again), op = the backward node's name
  without "Backward"; its inputs are the producers of its operands;
* one per parameter that requires grad, ``<scope>/<name>`` (op ``Parameter``), and one per
  input and output, ``input/input.K`` and ``output/output.K`` (op ``IO Node``, torch's
  names); these carry an ``_output_shapes`` attribute.

Operands that do not require grad (integer indices, buffers, constants) record no edge
and so do not appear.
"""

import interop as it
from interop.utils._pytree import tensors_in

from . import _tb
from ._summary import as_tensor

__all__ = ["graph_def"]


def _scopes(model):
    root = type(model).__name__
    scopes = {"": root}
    for name, mod in model.named_modules():
        if name:
            parent, _, last = name.rpartition(".")
            scopes[name] = f"{scopes[parent]}/{type(mod).__name__}[{last}]"
    return scopes


def _shape_attr(shape):
    pb = _tb.tensor_shape_pb2
    shape_proto = pb.TensorShapeProto(dim=[pb.TensorShapeProto.Dim(size=int(d)) for d in shape])
    AttrValue = _tb.attr_value_pb2.AttrValue
    return {"_output_shapes": AttrValue(list=AttrValue.ListValue(shape=[shape_proto]))}


def _run(model, args):
    """Run ``model(*args)`` recording (start, end, scope-key) of every module call."""
    calls, open_calls, handles = [], {}, []
    counter = it.autograd.graph

    def pre(mod, _args, key):
        open_calls.setdefault(key, []).append(counter.next_seq())

    def post(mod, _args, _out, key):
        calls.append((open_calls[key].pop(), counter.next_seq(), key))

    try:
        for name, mod in model.named_modules():
            handles.append(mod.register_forward_pre_hook(
                lambda m, a, key=name: pre(m, a, key)))
            handles.append(mod.register_forward_hook(
                lambda m, a, o, key=name: post(m, a, o, key)))
        with it.enable_grad():
            out = model(*args)
    finally:
        for h in handles:
            h.remove()
    return out, sorted(calls)


def _owner_of(nodes, calls):
    """{id(node): scope key of the innermost call holding node.seq} (a sweep over both,
    sorted by number; the calls nest)."""
    owner, stack, i = {}, [], 0
    for n in sorted(nodes, key=lambda n: n.seq):
        while i < len(calls) and calls[i][0] < n.seq:
            start, end, key = calls[i]
            while stack and stack[-1][1] < start:
                stack.pop()
            stack.append((start, end, key))
            i += 1
        while stack and stack[-1][1] < n.seq:
            stack.pop()
        owner[id(n)] = stack[-1][2] if stack else ""
    return owner


def graph_def(model, input_to_model, verbose=False):
    who = "add_graph"
    if not callable(model) or not hasattr(model, "named_modules"):
        raise TypeError(f"{who}: expected an interop nn.Module, got {type(model).__name__}")
    if input_to_model is None:
        raise TypeError(f"{who}: input_to_model is needed: the graph is recorded by running "
                        f"the model on it (a tensor or a tuple of tensors)")
    raw = input_to_model if isinstance(input_to_model, (tuple, list)) else (input_to_model,)
    args = []
    for a in raw:
        t = as_tensor(a, f"{who}: input_to_model")
        if t.dtype.is_floating_point or t.dtype.is_complex:
            t = t.detach().requires_grad_(True)
        args.append(t)
    out, calls = _run(model, tuple(args))
    outputs = tensors_in(out)
    if not outputs:
        raise TypeError(f"{who}: the model returned {type(out).__name__}, which holds no tensor")

    scopes = _scopes(model)
    names = {}
    for pname, p in model.named_parameters():
        mod, _, last = pname.rpartition(".")
        names[id(p)] = (f"{scopes[mod]}/{last}", "Parameter", p.shape)
    for k, t in enumerate(args):
        names[id(t)] = (f"input/input.{k}", "IO Node", t.shape)

    # every node reachable from the outputs, by identity
    nodes, todo = {}, [t.grad_fn for t in outputs if t.grad_fn is not None]
    while todo:
        n = todo.pop()
        if id(n) in nodes:
            continue
        nodes[id(n)] = n
        todo.extend(e for e, _ in n.next_functions if e is not None)
    owner = _owner_of([n for n in nodes.values() if n.seq], calls)

    NodeDef = _tb.node_def_pb2.NodeDef
    node_name, defs, used = {}, [], set()

    def unique(base):
        name, k = base, 0
        while name in used:
            k += 1
            name = f"{base}_{k}"
        used.add(name)
        return name

    order = sorted(nodes.values(), key=lambda n: n.seq)     # producers first
    for n in order:
        if isinstance(n, it.autograd.graph.AccumulateGrad):
            leaf = n.variable()
            name, op, shape = names.get(id(leaf), ("Leaf", "Leaf", getattr(leaf, "shape", ())))
            node_name[id(n)] = unique(name)
            defs.append(NodeDef(name=node_name[id(n)], op=op, attr=_shape_attr(shape)))
            continue
        op = n.name()
        op = op[1:] if op.startswith("_") else op
        op = op[:-len("Backward")] if op.endswith("Backward") and len(op) > 8 else op
        node_name[id(n)] = unique(f"{scopes[owner[id(n)]]}/{op}")
        inputs = [node_name[id(e)] + (f":{k}" if k else "")
                  for e, k in n.next_functions if e is not None]
        defs.append(NodeDef(name=node_name[id(n)], op=op, input=inputs,
                            device=str(n.be.device)))
    for k, t in enumerate(outputs):
        src = [node_name[id(t.grad_fn)]] if t.grad_fn is not None else []
        defs.append(NodeDef(name=f"output/output.{k}", op="IO Node", input=src,
                            attr=_shape_attr(t.shape)))
    if verbose:
        for d in defs:
            print(f"{d.name} = {d.op}({', '.join(d.input)})")
    return _tb.graph_pb2.GraphDef(node=defs, versions=_tb.versions_pb2.VersionDef(producer=22))
