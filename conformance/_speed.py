"""Section 7, speed relative to the raw namespace: what interop costs on top of the
backend's own library. Reported, not judged: each check passes when it runs, and its
measurements go to the report.

``speed::chain[forward]``: a chain of small elementwise ops on a 64-element array, per
op, through interop and written directly against the backend's namespace.
``speed::chain[forward+backward]``: the same chain with autograd recording and backward.
``speed::matmul``: a 256x256 matmul (the library's own kernel dominates: the ratio should
be near 1). Each timing ends by reading one element of the last result, so a library that
dispatches asynchronously (JAX) is timed for the work, not for queueing it.
"""

import time

import interop as it

from ._core import Check

_OPS = 10


def _sync(out, xp):
    """Read one element of the last result, inside the timing: a library that dispatches
    asynchronously (JAX) has then finished the work it queued."""
    if isinstance(out, it.Tensor):
        out.reshape(-1)[0].item()
    elif out is not None:
        float(xp.reshape(out, (-1,))[0])


def _best(fn, reps, xp):
    _sync(fn(), xp)
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(reps):
            out = fn()
        _sync(out, xp)
        best = min(best, (time.perf_counter() - t0) / reps)
    return best


def _chain_raw(xp, a):
    for _ in range(_OPS // 2):
        a = xp.tanh(a * 0.5)
    return a


def _chain(x):
    for _ in range(_OPS // 2):
        x = (x * 0.5).tanh()
    return x


def _forward(ctx):
    reps = 50 if ctx.quick else 300
    x = it.ones(64, dtype=ctx.float, device=ctx.be)
    raw = x.detach()._data
    xp = ctx.be.xp
    t_raw = _best(lambda: _chain_raw(xp, raw), reps, xp)
    t_it = _best(lambda: _chain(x), reps, xp)
    return {"interop_us_per_op": t_it / _OPS * 1e6, "raw_us_per_op": t_raw / _OPS * 1e6,
            "ratio": t_it / t_raw}


def _backward(ctx):
    reps = 30 if ctx.quick else 200
    x = it.ones(64, dtype=ctx.float, device=ctx.be, requires_grad=True)
    raw = x.detach()._data
    xp = ctx.be.xp

    def raw_fwd_bwd():            # the same maths by hand: forward, then the chain rule
        a, saved = raw, []
        for _ in range(_OPS // 2):
            y = xp.tanh(a * 0.5)
            saved.append(y)
            a = y
        g = xp.ones_like(a)
        for y in reversed(saved):
            g = g * (1 - y * y) * 0.5
        return g

    def it_fwd_bwd():
        x.grad = None
        _chain(x).sum().backward()
        return x.grad

    t_raw = _best(raw_fwd_bwd, reps, xp)
    t_it = _best(it_fwd_bwd, reps, xp)
    return {"interop_us_per_op": t_it / _OPS * 1e6, "raw_us_per_op": t_raw / _OPS * 1e6,
            "ratio": t_it / t_raw}


def _matmul(ctx):
    reps = 5 if ctx.quick else 20
    a = it.ones((256, 256), dtype=ctx.float, device=ctx.be)
    ra = a._data
    xp = ctx.be.xp
    t_raw = _best(lambda: xp.matmul(ra, ra), reps, xp)
    t_it = _best(lambda: a @ a, reps, xp)
    return {"interop_us_per_op": t_it * 1e6, "raw_us_per_op": t_raw * 1e6,
            "ratio": t_it / t_raw}


def checks():
    return [Check("speed", "chain[forward]", _forward),
            Check("speed", "chain[forward+backward]", _backward),
            Check("speed", "matmul", _matmul)]
