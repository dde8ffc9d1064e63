"""Data from NumPy, PyTorch and JAX handed to interop without a copy, trained on, and
the result handed back: DLPack in one process.

    python examples/dlpack_handoff.py [--n 4096] [--steps 200]

The features are a NumPy array, the true weights a JAX array and the noise a PyTorch
tensor; ``it.from_dlpack`` wraps each one's memory (the script prints both sides' data
pointers, which are equal when nothing was copied). interop fits a linear model by SGD on
them, then hands the learnt weights and the predictions back with ``np.from_dlpack``,
``torch.from_dlpack`` and ``jax.numpy.from_dlpack``. Where CuPy and a GPU are present the
same is shown on the GPU, and where cuDF is, a cuDF column goes to interop too.
"""

import argparse
import importlib
import sys

import numpy as np

import interop as it
from interop import nn


def address(x):
    """The address of the first element of a NumPy/PyTorch/JAX/CuPy array or an interop
    tensor (``t.numpy()`` is a view of a CPU tensor, as in PyTorch; a GPU tensor is viewed
    through CuPy)."""
    if isinstance(x, it.Tensor):
        if x.device.type == "cpu":
            return address(x.detach().numpy())
        return address(sys.modules["cupy"].from_dlpack(x.detach()))
    if isinstance(x, np.ndarray):
        return x.__array_interface__["data"][0]
    if hasattr(x, "data_ptr"):
        return x.data_ptr()                               # torch
    if hasattr(x, "unsafe_buffer_pointer"):
        return x.unsafe_buffer_pointer()                  # jax
    return x.data.ptr                                     # cupy


def show(what, src, dst):
    a, b = address(src), address(dst)
    print(f"  {what:<34} {a:#014x} -> {b:#014x}  {'shared' if a == b else 'COPIED'}")
    return a == b


def optional(name):
    try:
        return importlib.import_module(name)
    except ImportError:
        print(f"  {name}: not installed, skipped")
        return None


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=4096, help="samples")
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    it.set_backend("cpu")
    it.manual_seed(args.seed)
    torch, jnp = optional("torch"), optional("jax.numpy")

    print("into interop (producer address -> interop address):")
    x_np = np.random.default_rng(args.seed).standard_normal((args.n, 8), dtype=np.float32)
    x = it.from_dlpack(x_np)
    shared = [show("NumPy features (n, 8)", x_np, x)]
    x_np[0, 0] = 42.0                                     # a write shows on the other side
    assert x[0, 0].item() == 42.0
    x_np[0, 0] = 0.0
    w_true = it.asarray([1.0, -2.0, 0.5, 0.0, 3.0, -1.0, 0.25, 2.0])
    if jnp is not None:
        w_jax = jnp.asarray([1.0, -2.0, 0.5, 0.0, 3.0, -1.0, 0.25, 2.0], dtype=jnp.float32)
        w_true = it.from_dlpack(w_jax)                   # read-only, as JAX arrays are
        shared.append(show("JAX true weights (8,), read-only", w_jax, w_true))
    noise = 0.1 * it.randn(args.n)
    if torch is not None:
        torch.manual_seed(args.seed)
        noise_t = 0.1 * torch.randn(args.n)
        noise = it.from_dlpack(noise_t)
        shared.append(show("PyTorch noise (n,)", noise_t, noise))
    y = (x @ w_true + noise)[:, None]

    model = nn.Linear(8, 1)
    opt = it.optim.SGD(model.parameters(), lr=0.1)
    for step in range(1, args.steps + 1):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
    print(f"trained nn.Linear(8, 1) on them: {args.steps} SGD steps, mse {loss.item():.4f} "
          f"(noise variance 0.01)")
    w = model.weight.detach()[0]
    print("  learnt weights:", " ".join(f"{v:+.2f}" for v in w.tolist()))
    err = float(it.max(it.abs(w - w_true)).item())
    print(f"  largest error against the true weights: {err:.3f}")

    print("back out of interop (interop address -> consumer address):")
    with it.no_grad():
        pred = model(x)[:, 0]
    back = np.from_dlpack(w)
    shared.append(show("weights -> NumPy", w, back))
    if torch is not None:
        shared.append(show("predictions -> PyTorch", pred, torch.from_dlpack(pred)))
    if jnp is not None:
        # JAX shares only memory aligned to 64 bytes and copies the rest: interop's creation
        # functions align tensors of 1 KB and more, results of NumPy operations (such as
        # these predictions) only NumPy's 16-byte alignment: JAX shares them when they
        # happen to be aligned, and copies them otherwise
        shared.append(show("predictions -> JAX", pred, jnp.from_dlpack(pred)))
        fresh = it.randn(args.n)
        shared.append(show("it.randn(n) -> JAX", fresh, jnp.from_dlpack(fresh)))

    gpu(args, optional("cupy"))
    print(f"zero-copy hand-offs: {sum(shared)} of {len(shared)}"
          + (" (JAX copies memory that is not 64-byte aligned)" if not all(shared) else ""))
    return err


def gpu(args, cupy):
    if cupy is None:
        return
    try:
        it.backends.get_backend("cuda")
    except Exception as e:                                # no GPU or no driver
        print(f"  CuPy is installed but the cuda backend is unavailable ({e}), skipped")
        return
    print("on the GPU:")
    x_cp = cupy.random.standard_normal((args.n, 8), dtype=cupy.float32)
    x = it.from_dlpack(x_cp)
    show("CuPy array -> interop (cuda)", x_cp, x)
    back = cupy.from_dlpack(x * 2)
    print(f"  interop result -> CuPy: {type(back).__name__} on device {back.device.id}")
    try:
        cudf = importlib.import_module("cudf")
    except ImportError:
        print("  cudf: not installed, skipped")
        return
    col = cudf.Series(cupy.arange(args.n, dtype=cupy.float32))
    values = col.values                                   # a CuPy view of the column
    t = it.from_dlpack(values)
    show("cuDF column -> interop (cuda)", values, t)
    print(f"  column mean computed by interop: {t.mean().item():.1f}")


if __name__ == "__main__":
    main()
