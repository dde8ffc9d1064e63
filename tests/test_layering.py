"""The shape of the package, read from its source (nothing is run):

* only ``interop/backends/`` imports an array library;
* imports point downward: backends (and dtypes, _device) at the bottom, then autograd,
  then the tensor layer, and no import cycle anywhere; inside the tensor layer, the op
  families (``interop/_ops/``) import neither the tensor class nor a public namespace;
* no import of an interop module is written inside a function (they would hide a loop);
* no module assigns into another module or into a class it imported (``graph.Tensor =
  Tensor``, ``Tensor.__add__ = ...``): methods live in class bodies.
"""

import ast
import importlib
import pathlib
import types

import pytest

import interop as it

PKG = pathlib.Path(it.__file__).resolve().parent
ARRAY_LIBS = {"numpy", "cupy", "cupyx", "array_api_strict", "array_api_compat", "torch", "jax"}


def _module_name(path, root=PKG):
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources(root=PKG):
    return {_module_name(p, root): (p, ast.parse(p.read_text(encoding="utf-8"), str(p)))
            for p in sorted(root.rglob("*.py"))}


def _imports(mod, tree, modules):
    """(lineno, target module, inside a function) for every import of a module in ``modules``
    or of another top-level package."""
    is_pkg = mod in modules and modules[mod][0].name == "__init__.py"
    parents = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node

    def in_function(node):
        p = parents.get(node)
        while p is not None:
            if isinstance(p, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                return True
            p = parents.get(p)
        return False

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, a.name, in_function(node)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = mod.split(".") if is_pkg else mod.split(".")[:-1]
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            subs = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in modules]
            if len(subs) < len(node.names):
                yield node.lineno, target, in_function(node)
            for s in subs:
                yield node.lineno, s, in_function(node)


def _owner(name, modules):
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _graph(modules):
    edges = {m: set() for m in modules}
    for mod, (_, tree) in modules.items():
        for _, target, _ in _imports(mod, tree, modules):
            o = _owner(target, modules)
            if o and o != mod:
                edges[mod].add(o)
    return edges


def _cycles(edges):
    """Strongly connected components with more than one module (iterative Tarjan)."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on.add(start)
        while work:
            v, it_ = work[-1]
            advanced = False
            for w in it_:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(edges[w]))))
                    advanced = True
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


_UPPER = ("interop.nn", "interop.optim", "interop.data", "interop.io", "interop.utils.data",
          "interop.utils.tensorboard", "interop.onnx", "interop.distributions",
          "interop.serialization", "interop.multiprocessing", "interop.distributed")


def _layer(mod):
    if mod.startswith("interop.backends") or mod in ("interop.dtypes", "interop._device"):
        return 0
    if mod.startswith("interop.autograd"):
        return 1
    if mod.startswith(_UPPER):
        return 3
    return 2


def _foreign_assignments(mod, tree, modules, resolve=True):
    """``name.attr = ...`` (or ``setattr(name, ...)``) where ``name`` was imported and is a
    module or a class (state objects such as the grad mode are meant to be set)."""
    imported = set()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for a in node.names:
                imported.add((a.asname or a.name).split(".")[0])
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) \
                        and t.value.id in imported:
                    out.append(f"{mod}:{node.lineno} sets {t.value.id}.{t.attr}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id == "setattr" and node.args \
                and isinstance(node.args[0], ast.Name) and node.args[0].id in imported:
            out.append(f"{mod}:{node.lineno} calls setattr on {node.args[0].id}")
    if resolve:
        live = importlib.import_module(mod)

        def is_module_or_class(entry):
            name = entry.rsplit(" ", 1)[-1].split(".")[0]
            return isinstance(getattr(live, name, None), (types.ModuleType, type))
        out = [e for e in out if is_module_or_class(e)]
    return out


# ---------------------------------------------------------------------- the rules

def test_only_backends_import_array_libraries():
    modules = _sources()
    assert len(modules) > 20
    offenders = [f"{mod}:{line} imports {target}"
                 for mod, (_, tree) in modules.items() if not mod.startswith("interop.backends")
                 for line, target, _ in _imports(mod, tree, modules)
                 if target.split(".")[0] in ARRAY_LIBS]
    assert not offenders, "array libraries imported outside interop/backends/:\n" + "\n".join(offenders)


def test_no_import_cycle():
    cycles = _cycles(_graph(_sources()))
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_imports_point_downward():
    modules = _sources()
    edges = _graph(modules)
    upward = sorted(f"{a} -> {b}" for a, bs in edges.items() for b in bs if _layer(b) > _layer(a))
    assert not upward, "imports from a lower layer into a higher one:\n" + "\n".join(upward)


def test_no_interop_import_inside_a_function():
    modules = _sources()
    deferred = [f"{mod}:{line} imports {target}"
                for mod, (_, tree) in modules.items()
                for line, target, inside in _imports(mod, tree, modules)
                if inside and _owner(target, modules)]
    assert not deferred, "interop modules imported inside functions:\n" + "\n".join(deferred)


def test_no_module_assigns_into_what_it_imported():
    modules = _sources()
    found = [x for mod, (_, tree) in modules.items() for x in _foreign_assignments(mod, tree, modules)
             if not x.endswith("sets sys.excepthook")]   # Python's documented slot for a hook
    assert not found, "assignments into imported modules or classes:\n" + "\n".join(found)


def test_tensor_methods_are_defined_in_class_bodies():
    # every public name of Tensor comes from the __dict__ of a class written with a class
    # statement in interop (the mixins), never attached afterwards
    modules = _sources()
    defined = {}
    for mod, (_, tree) in modules.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                names = set()
                for stmt in node.body:
                    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        names.add(stmt.name)
                    elif isinstance(stmt, ast.Assign):
                        for t in stmt.targets:
                            for n in ast.walk(t):
                                if isinstance(n, ast.Name):
                                    names.add(n.id)
                defined[node.name] = names
    missing = []
    implicit = {"__dict__", "__weakref__", "__doc__", "__module__", "__slots__", "__qualname__"}
    for name in dir(it.Tensor):
        if name in implicit or (name.startswith("_") and not name.endswith("__")):
            continue
        owner = next((c for c in it.Tensor.__mro__ if name in c.__dict__), None)
        if owner is None or owner is object:
            continue
        if name not in defined.get(owner.__name__, ()):
            missing.append(f"{owner.__name__}.{name}")
    assert not missing, "Tensor attributes not written in a class body:\n" + "\n".join(missing)


def test_upper_layers_use_the_namespace_and_load_lazily():
    """nn (and optim, data, io) sit above the namespace: nothing below imports them, and
    `interop.nn` is reached through the namespace's module __getattr__, which loads exactly
    those packages by name (the one import not written as an import statement)."""
    import interop.nn as nn_pkg
    assert it.nn is nn_pkg
    assert set(it._UPPER_LAYERS) == {m.split(".")[1] for m in _UPPER if m.count(".") == 1}
    assert it.utils.data.DataLoader is it.data.DataLoader
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        it.nonexistent
    modules = _sources()
    below = sorted(f"{a} -> {b}" for a, bs in _graph(modules).items() for b in bs
                   if _layer(b) == 3 and _layer(a) < 3)
    assert not below, below


# The tensor layer's own boundaries: the op families (interop/_ops/) are built from the
# layers below and the core's argument, dtype and error rules, never from the tensor class
# or a public namespace (those import the ops); the upper layers reach the ops only
# through the namespace.
_OPS_MAY_IMPORT = ("interop.autograd", "interop.backends", "interop.dtypes", "interop._device",
                   "interop._args", "interop._errors", "interop._dtype_rules", "interop._convert",
                   "interop._generator", "interop._ops")


def test_op_families_sit_below_the_tensor_class_and_the_namespaces():
    modules = _sources()
    edges = _graph(modules)
    ops = [m for m in modules if m.startswith("interop._ops")]
    assert len(ops) > 15
    bad = sorted(f"{a} -> {b}" for a in ops for b in edges[a]
                 if not b.startswith(_OPS_MAY_IMPORT))
    assert not bad, "an op family imports above its layer:\n" + "\n".join(bad)
    reach = sorted(f"{a} -> {b}" for a, bs in edges.items() for b in bs
                   if b.startswith("interop._ops") and _layer(a) in (0, 1, 3))
    assert not reach, "only the tensor layer imports the op families:\n" + "\n".join(reach)


# ------------------------------------------------------- the checkers catch what they must

def test_checkers_see_cycles_nested_imports_and_foreign_assignments(tmp_path):
    pkg = tmp_path / "interop"
    (pkg / "autograd").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from . import a\n")
    (pkg / "a.py").write_text("from . import b\n")
    (pkg / "b.py").write_text("def f():\n    from . import a\n    import numpy\n")
    (pkg / "autograd" / "__init__.py").write_text("from .. import a\n")
    (pkg / "c.py").write_text("from . import a\nfrom .b import f\na.x = 1\nf.y = 2\n")
    modules = _sources(pkg)
    edges = _graph(modules)
    assert _cycles(edges) == [["interop.a", "interop.b"]]
    assert [(line, t, inside) for line, t, inside in _imports("interop.b", modules["interop.b"][1],
                                                               modules)] == \
        [(2, "interop.a", True), (3, "numpy", True)]
    assert any(_layer(b) > _layer(a) for a, bs in edges.items() for b in bs)   # autograd -> a
    assert _foreign_assignments("interop.c", modules["interop.c"][1], modules, resolve=False) == \
        ["interop.c:3 sets a.x", "interop.c:4 sets f.y"]
