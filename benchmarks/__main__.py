"""Command line: ``python -m benchmarks [--quick] [--backend NAME] [--json FILE] [--plot FILE.png]``
runs every workload and prints one table (benchmarks/suite.py); ``python -m benchmarks NAME
[--quick] ...`` runs one part with its details (perop, dlpack, mlp, cnn, mnist, memory, data,
layers, optim)."""

from __future__ import annotations

import argparse
import sys

from benchmarks import ddp as _ddp


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="interop benchmarks, measured side by side with PyTorch and the raw backend.",
    )
    # with no COMMAND: every workload, one table (benchmarks/suite.py)
    parser.add_argument("--quick", action="store_true",
                        help="every part's quick settings (under two minutes on 2 cores)")
    parser.add_argument("--backend", default="cpu", metavar="NAME",
                        help="interop backend to measure (default: cpu)")
    parser.add_argument("--json", metavar="FILE", default=None, help="also write the rows as JSON")
    parser.add_argument("--plot", metavar="FILE.png", default=None,
                        help="draw the ratios as a bar chart (needs matplotlib)")
    parser.add_argument("--only", metavar="PART[,PART]", default=None,
                        help="only these parts of the suite (perop, train, train2, layers, optim, "
                             "data, dlpack)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    perop = sub.add_parser(
        "perop",
        help="per-op overhead of a 100-op elementwise chain, forward + backward",
        description=(
            "Per-op overhead of a 100-op chain of elementwise ops on a tiny float32 "
            "tensor of shape (16,), forward + backward, for interop, PyTorch (CPU, one "
            "thread) and raw NumPy (forward only: the floor), in one process."
        ),
    )
    perop.add_argument(
        "--quick",
        action="store_true",
        help="fewer and shorter samples (a few seconds; used by CI)",
    )
    perop.add_argument(
        "--backend",
        default="cpu",
        metavar="NAME",
        help="interop backend to measure (default: cpu)",
    )
    perop.add_argument(
        "--json",
        metavar="FILE",
        default=None,
        help="also write the figures to FILE as JSON",
    )

    dlpack = sub.add_parser(
        "dlpack",
        help="DLPack hand-off time with numpy, torch and jax at 1 KB and 256 MB",
        description=(
            "Time of one DLPack hand-off (consumer.from_dlpack(producer)) between interop "
            "and NumPy, PyTorch and JAX in each direction, at 1 KB and 256 MB, side by side "
            "with the same hand-off between those libraries."
        ),
    )
    dlpack.add_argument("--quick", action="store_true", help="fewer and shorter samples")
    dlpack.add_argument("--json", metavar="FILE", default=None,
                        help="also write the figures to FILE as JSON")

    for name, text in (("mlp", "MLP 784-1024-1024-10 training steps/s against PyTorch's"),
                       ("cnn", "LeNet-like CNN training steps/s against PyTorch's"),
                       ("mnist", "PyTorch's MNIST example network, training steps/s against "
                                 "PyTorch's"),
                       ("memory", "peak RSS of 50 training steps of each model against "
                                  "PyTorch's")):
        cmd = sub.add_parser(name, help=text, description=text + " (benchmarks/train.py).")
        cmd.add_argument("--quick", action="store_true", help="fewer and shorter samples")
        cmd.add_argument("--backend", default="cpu", metavar="NAME",
                         help="interop backend to measure (default: cpu)")
        cmd.add_argument("--json", metavar="FILE", default=None,
                         help="also write the figures to FILE as JSON")
        cmd.add_argument("--threads", type=int, default=None, metavar="N",
                         help="threads of each library's process (default: all cores)")

    data = sub.add_parser("data", help="DataLoader batches/s with 0 and 2 workers against "
                          "PyTorch's", description="DataLoader throughput (benchmarks/data.py).")
    data.add_argument("--quick", action="store_true", help="a smaller dataset, fewer epochs")
    data.add_argument("--json", metavar="FILE", default=None,
                      help="also write the figures to FILE as JSON")

    layers = sub.add_parser(
        "layers",
        help="per-layer forward + backward time (conv2d, max_pool2d...) against PyTorch's",
        description="Forward + backward time of single layer calls (LeNet's convolutions and "
                    "poolings, ...) in interop and PyTorch on the same data (benchmarks/layers.py).",
    )
    layers.add_argument("--quick", action="store_true", help="fewer and shorter samples")
    layers.add_argument("--backend", default="cpu", metavar="NAME",
                        help="interop backend to measure (default: cpu)")
    layers.add_argument("--rows", default=None, metavar="NAME[,NAME]",
                        help="only these rows (default: all)")
    layers.add_argument("--threads", type=int, default=None, metavar="N",
                        help="limit PyTorch and NumPy's BLAS to N threads (default: all cores)")
    layers.add_argument("--json", metavar="FILE", default=None,
                        help="also write the figures to FILE as JSON")

    optim = sub.add_parser("optim", help="Adam steps/s over the MLP's parameters against "
                           "PyTorch's Adam", description="Optimizer steps (benchmarks/optim.py).")
    optim.add_argument("--quick", action="store_true", help="fewer and shorter samples")
    optim.add_argument("--backend", default="cpu", metavar="NAME",
                       help="interop backend to measure (default: cpu)")
    optim.add_argument("--json", metavar="FILE", default=None,
                       help="also write the figures to FILE as JSON")

    sub.add_parser("onnx", help="ONNX export: nodes and onnxruntime latency against "
                   "torch.onnx.export's (benchmarks/onnx_export.py)").add_argument(
        "--quick", action="store_true", help="fewer and shorter samples")
    if (sys.argv[1:] if argv is None else argv)[:1] == ["ddp"]:   # [--quick]: benchmarks/ddp.py
        return _ddp.main(quick="--quick" in (sys.argv if argv is None else argv))
    args = parser.parse_args(argv)
    if args.command is None:
        from benchmarks import suite

        return suite.main(quick=args.quick, backend=args.backend, json_path=args.json,
                          plot_path=args.plot, only=args.only.split(",") if args.only else None)
    if args.command == "perop":
        from benchmarks import perop as perop_mod

        return perop_mod.main(quick=args.quick, backend=args.backend, json_path=args.json)
    if args.command == "dlpack":
        from benchmarks import dlpack as dlpack_mod

        return dlpack_mod.main(quick=args.quick, json_path=args.json)
    if args.command in ("mlp", "cnn", "mnist", "memory"):
        from benchmarks import train

        return train.main(which=(args.command,), quick=args.quick, backend=args.backend,
                          json_path=args.json, threads=args.threads)
    if args.command == "data":
        from benchmarks import data as data_mod

        return data_mod.main(quick=args.quick, json_path=args.json)
    if args.command == "layers":
        from benchmarks import layers as layers_mod

        return layers_mod.main(quick=args.quick, backend=args.backend, json_path=args.json,
                               only=args.rows.split(",") if args.rows else None,
                               threads=args.threads)
    if args.command == "optim":
        from benchmarks import optim as optim_mod

        return optim_mod.main(quick=args.quick, backend=args.backend, json_path=args.json)
    if args.command == "onnx":
        from benchmarks import onnx_export

        return onnx_export.main(quick=args.quick)
    parser.error(f"unknown command {args.command!r}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
