"""``python -m conformance``: run interop's conformance suite on one backend.

Exit status: 0 when every check run passed (skips are not failures), 1 when any check
failed, crashed or was blocked, 2 for a usage error (unknown backend, a namespace that
cannot be imported, a bad option, a backend not available here).
"""

import argparse
import sys
import time

from . import (SECTIONS, UsageError, all_checks, json_report, markdown_report, run,
               summary_table)
from ._report import console_failures, summarize


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        print(f"python -m conformance: error: {message}", file=sys.stderr)
        sys.exit(2)


def _parser():
    p = _Parser(prog="python -m conformance",
                description="What of interop works on a backend: the Array API contract, "
                            "namespace semantics, gradients, layers and losses, training "
                            "parity, DLPack exchange, and speed against the raw namespace.")
    target = p.add_mutually_exclusive_group()
    target.add_argument("--backend", metavar="NAME",
                        help="a registered backend: cpu, strict, cuda, cuda:1, ... "
                             "(default: cpu)")
    target.add_argument("--namespace", metavar="MODULE",
                        help="register an Array API namespace on the spot and test interop on "
                             "it: jax.numpy, array_api_compat.torch, array_api_strict, a "
                             "module of your own")
    p.add_argument("--quick", action="store_true",
                   help="a representative sample (under 3 minutes on 2 CPU cores)")
    p.add_argument("--only", metavar="SECTION[::CHECK]", action="append",
                   help=f"run only these checks (repeatable); sections: {', '.join(SECTIONS)}")
    p.add_argument("--seed", type=int, default=0, help="the seed every check's inputs come from")
    p.add_argument("--report", metavar="FILE.md", help="write a Markdown report for people")
    p.add_argument("--json", metavar="FILE", help="write every check's result as JSON")
    p.add_argument("--list", action="store_true", help="list the checks and exit")
    p.add_argument("-v", "--verbose", action="store_true", help="print every check's result")
    return p


def main(argv=None):
    args = _parser().parse_args(argv)
    if args.list:
        for c in all_checks():
            print(f"{c.id}{'' if c.quick else '   (full run only)'}")
        return 0
    if args.only:
        for pat in args.only:
            if pat.partition("::")[0] not in SECTIONS:
                print(f"python -m conformance: error: --only {pat!r}: unknown section "
                      f"{pat.partition('::')[0]!r}; expected one of {', '.join(SECTIONS)}",
                      file=sys.stderr)
                return 2
    backend = args.backend if args.backend or args.namespace else "cpu"
    bar = _Progress()
    t0 = time.perf_counter()
    try:
        meta, results = run(backend=None if args.namespace else backend,
                            namespace=args.namespace, quick=args.quick, only=args.only,
                            seed=args.seed, progress=bar)
    except UsageError as e:
        bar.close()
        print(f"python -m conformance: error: {e}", file=sys.stderr)
        return 2
    bar.close()
    meta["seconds"] = round(time.perf_counter() - t0, 1)
    print(f"\ninterop conformance on {meta['backend']} ({meta['library']}, {meta['device']}, "
          f"{meta['float dtype']}; {meta['mode']} run, seed {meta['seed']}, "
          f"{meta['seconds']} s)\n")
    text = console_failures(results, args.verbose)
    if text:
        print(text + "\n")
    print(summary_table(results))
    if args.report:
        with open(args.report, "w", encoding="utf-8") as f:
            f.write(markdown_report(meta, results) + "\n")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            f.write(json_report(meta, results) + "\n")
    total = {k: sum(row[k] for row in summarize(results).values())
             for k in ("fail", "error", "blocked")}
    return 1 if any(total.values()) else 0


class _Bar:
    """tqdm's bar over the checks, naming the running section and counting failures."""

    def __init__(self, total):
        from tqdm import tqdm
        self.bar = tqdm(total=total, unit="check", file=sys.stderr, leave=False, disable=None,
                        dynamic_ncols=True)
        self.failed = 0

    def update(self, res):
        if res.status in ("fail", "error", "blocked"):
            self.failed += 1
        self.bar.set_description(f"{res.section} ({self.failed} failed)")
        self.bar.update(1)

    def close(self):
        self.bar.close()


class _Progress:
    """Makes the bar once the number of checks is known (no bar without tqdm)."""

    def __init__(self):
        self.bar = None

    def __call__(self, total):
        try:
            self.bar = _Bar(total)
        except ImportError:       # tqdm is optional: without it, no bar
            return None
        return self.bar.update

    def close(self):
        if self.bar is not None:
            self.bar.close()


if __name__ == "__main__":
    sys.exit(main())
