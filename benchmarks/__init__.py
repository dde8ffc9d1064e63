"""Benchmarks for interop.

Run them as ``python -m benchmarks SUBCOMMAND`` (see ``python -m benchmarks --help``).

Benchmarks are users of interop's public API only. They may import NumPy and
PyTorch to measure against them: every figure is a ratio taken side by side with
PyTorch and the raw backend in one process run, never an absolute threshold.
"""
