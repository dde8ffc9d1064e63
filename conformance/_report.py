"""What a run tells people (the summary table, a Markdown report) and machines (JSON)."""

import json
import platform
from collections import Counter, defaultdict

from ._core import SECTIONS

STATUSES = ("pass", "fail", "error", "blocked", "skip")


def summarize(results):
    """Per section: counts of each status and seconds spent, in run order."""
    rows = {}
    for r in results:
        row = rows.setdefault(r.section, Counter())
        row[r.status] += 1
        row["seconds"] += r.seconds
    return {s: rows[s] for s in SECTIONS if s in rows}


def verdict(row):
    bad = row["fail"] + row["error"] + row["blocked"]
    ran = sum(row[s] for s in STATUSES) - row["skip"]
    if bad:
        return "FAIL"
    return "pass" if ran else "not run"


def summary_table(results, markdown=False):
    rows = summarize(results)
    head = ("section", "passed", "failed", "errors", "blocked", "skipped", "seconds", "verdict")
    body = []
    for sec, row in rows.items():
        body.append((SECTIONS[sec], row["pass"], row["fail"], row["error"], row["blocked"],
                     row["skip"], f"{row['seconds']:.1f}", verdict(row)))
    total = Counter()
    for row in rows.values():
        total.update(row)
    body.append(("total", total["pass"], total["fail"], total["error"], total["blocked"],
                 total["skip"], f"{total['seconds']:.1f}", verdict(total)))
    if markdown:
        lines = ["| " + " | ".join(head) + " |",
                 "| " + " | ".join(["---"] + ["---:"] * 6 + ["---"]) + " |"]
        lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in body]
        return "\n".join(lines)
    widths = [max(len(str(r[i])) for r in [head] + body) for i in range(len(head))]
    fmt = lambda r: "  ".join(str(c).ljust(w) if i in (0, 7) else str(c).rjust(w)
                              for i, (c, w) in enumerate(zip(r, widths)))
    sep = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(head), sep] + [fmt(r) for r in body[:-1]] + [sep, fmt(body[-1])])


def root_causes(results):
    """Contract failures that other checks were blocked by: function -> (result, blocked)."""
    blocked = defaultdict(list)
    for r in results:
        for c in r.causes:
            blocked[c].append(r)
    return blocked


def markdown_report(meta, results):
    out = [f"# interop conformance: {meta['backend']}", ""]
    for k in ("backend", "library", "device", "float dtype", "interop", "python", "mode",
              "seed", "date", "command"):
        if k in meta:
            out.append(f"- **{k}**: {meta[k]}")
    out += ["", summary_table(results, markdown=True), ""]
    failures = [r for r in results if r.status in ("fail", "error")]
    blocked = root_causes(results)
    if failures:
        out += [f"## Failures ({len(failures)})", ""]
        for r in failures:
            out += _failure_md(r, blocked)
    if blocked:
        n = sum(len(v) for v in blocked.values())
        out += [f"## Blocked ({n} checks that failed after using a function that failed its "
                f"contract check)", ""]
        for fn, rs in sorted(blocked.items()):
            ids = ", ".join(f"`{r.id}`" for r in rs[:12])
            more = f" and {len(rs) - 12} more" if len(rs) > 12 else ""
            out.append(f"- by `{fn}` ({len(rs)}): {ids}{more}")
        out.append("")
    skips = defaultdict(list)
    for r in results:
        if r.status == "skip":
            skips[r.message].append(r.id)
    if skips:
        out += ["## Skipped (not applicable here)", ""]
        for why, ids in skips.items():
            shown = ", ".join(f"`{i}`" for i in ids[:8])
            more = f" and {len(ids) - 8} more" if len(ids) > 8 else ""
            out.append(f"- {why}: {shown}{more}")
        out.append("")
    measured = [r for r in results if r.measurements]
    if measured:
        out += ["## Measurements (reported, not judged)", ""]
        keys = sorted({k for r in measured for k in r.measurements})
        out.append("| check | " + " | ".join(keys) + " |")
        out.append("| --- | " + " | ".join("---:" for _ in keys) + " |")
        for r in measured:
            out.append(f"| `{r.id}` | " + " | ".join(_fmt(r.measurements.get(k)) for k in keys)
                       + " |")
        out.append("")
    return "\n".join(out)


def _fmt(v):
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)


def _failure_md(r, blocked):
    lines = [f"### `{r.id}` ({r.status})", "", r.message, ""]
    if r.inputs:
        lines.append(f"- inputs: `{json.dumps(r.inputs, default=repr)}`")
    if r.expected is not None or r.got is not None:
        lines.append(f"- expected: `{r.expected!r}`")
        lines.append(f"- got: `{r.got!r}`")
    if r.distance is not None:
        lines.append(f"- distance from the reference: {r.distance!r} (<= 1 passes)")
    fn = r.id.partition("function[")[2][:-1] if "::function[" in r.id else None
    if fn and fn in blocked:
        lines.append(f"- root cause of {len(blocked[fn])} blocked checks")
    lines += [f"- reproduce: `{r.repro}`", ""]
    if r.traceback:
        lines += ["```", r.traceback.rstrip(), "```", ""]
    return lines


def json_report(meta, results):
    return json.dumps({"meta": meta,
                       "summary": {s: dict(row) for s, row in summarize(results).items()},
                       "checks": [r.as_dict() for r in results]}, indent=1, default=repr)


def console_failures(results, verbose=False):
    """The failures (and with -v every check) as short console lines."""
    lines = []
    blocked = root_causes(results)
    for r in results:
        if r.status in ("fail", "error"):
            extra = f" (root cause of {len(blocked[_fn(r)])} blocked checks)" \
                if _fn(r) in blocked else ""
            lines.append(f"FAILED  {r.id}{extra}: {r.message.splitlines()[0] if r.message else ''}")
            lines.append(f"        reproduce: {r.repro}")
        elif verbose:
            msg = f": {r.message}" if r.message else ""
            lines.append(f"{r.status:<7} {r.id} ({r.seconds * 1000:.0f} ms){msg}")
    if blocked:
        n = sum(len(v) for v in blocked.values())
        lines.append(f"BLOCKED {n} checks failed after calling a function that failed its "
                     f"contract check: " + ", ".join(f"{k} ({len(v)})"
                                                    for k, v in sorted(blocked.items())))
    return "\n".join(lines)


def _fn(r):
    return r.id.partition("function[")[2][:-1] if "::function[" in r.id else None


def environment():
    return {"python": platform.python_version(), "platform": platform.platform()}
