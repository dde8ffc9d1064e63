"""No public method of Tensor or Module exists only to do nothing: a method whose body is
``pass``, ``return self`` or ``return None`` (or that ignores one of its arguments) is where a
PyTorch program silently differs (``Module.share_memory()`` was one). The exceptions are listed
with the reason the result still equals PyTorch's."""

import ast
import inspect
import textwrap

import interop as it

# parameter ignored -> why that gives PyTorch's result
IGNORED_ARGUMENTS = {
    ("Tensor.sort", "stable"): "every sort is stable; stable=False allows that too",
    ("Tensor.argsort", "stable"): "every sort is stable; stable=False allows that too",
    ("Tensor.cuda", "non_blocking"): "an asynchrony hint: the values are the same",
    ("Tensor.type", "non_blocking"): "an asynchrony hint: the values are the same",
    ("Tensor.__imatmul__", "other"): "raises: in-place matmul is refused with its reason",
    ("Module.register_backward_hook", "hook"): "raises: deprecated, with the replacement",
    ("Module.set_extra_state", "state"): "raises, as PyTorch's base method",
}


def _methods():
    seen = set()
    for cls in (it.Tensor, it.nn.Module):
        for name in dir(cls):
            if name.startswith("_") and not name.endswith("__"):
                continue
            attr = inspect.getattr_static(cls, name)
            fn = getattr(getattr(attr, "fget", attr), "__func__", getattr(attr, "fget", attr))
            if not callable(fn) or id(fn) in seen:
                continue
            seen.add(id(fn))
            try:
                tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
            except (OSError, TypeError):
                continue
            if isinstance(tree.body[0], ast.FunctionDef):
                yield f"{cls.__name__}.{name}", tree.body[0]


def _does_nothing(f):
    body = [s for s in f.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    if not body or all(isinstance(s, ast.Pass) for s in body):
        return True
    if len(body) == 1 and isinstance(body[0], ast.Return):
        v = body[0].value
        return v is None or (isinstance(v, ast.Constant) and v.value is None) or \
            (isinstance(v, ast.Name) and v.id == f.args.args[0].arg)
    return False


def test_no_public_method_does_nothing():
    allowed = {"Parameter.__init__"}       # built by __new__
    found = [name for name, f in _methods() if _does_nothing(f) and name not in allowed]
    assert not found, f"methods that do nothing: {found}"


def test_no_public_method_ignores_an_argument_without_a_reason():
    found = []
    for name, f in _methods():
        params = [a.arg for a in f.args.args + f.args.kwonlyargs][1:]
        used = {n.id for n in ast.walk(f) if isinstance(n, ast.Name)}
        found += [(name, p) for p in params if p not in used and (name, p) not in
                  IGNORED_ARGUMENTS]
    assert not found, f"arguments accepted and ignored: {found}"


def test_the_checker_sees_a_no_op():
    src = "def share_memory(self):\n    '''doc'''\n    return self\n"
    assert _does_nothing(ast.parse(src).body[0])
    assert not _does_nothing(ast.parse("def f(self):\n    return self.x\n").body[0])
