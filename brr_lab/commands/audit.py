"""`brr-lab audit PATH...`: stacked class weighting and drift across training configs.

Exit status: 0 nothing to report, 1 findings, 2 unreadable or invalid input (like a linter).
"""
from __future__ import annotations

import argparse

# Heavy imports (pydantic, YAML, the audit) happen in run(): `brr-lab --help` stays fast.


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "audit",
        help="check training configs for stacked class weighting and drift",
        description="Validate YAML training configs (brr_lab layout or the original "
        "brain-go-brr-v2 layout), report each one's active class-weighting mechanisms, "
        "effective ratio and q*, and a drift table of the loss and sampling settings that "
        "differ between files. Exit 0: nothing to report; 1: findings; 2: invalid input.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="config files, or folders (their *.yaml and *.yml files)")
    p.add_argument("--json", action="store_true",
                   help='print {"prevalence", "configs", "drift", "findings"} as JSON')
    p.add_argument("--prevalence", type=float, default=None,
                   help="fraction of positive windows, in (0, 1), used for pos_weight auto/sqrt "
                   "and samplers (default 1/13 = 0.0769, TUSZ-like 12:1)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from brr_lab import strict_json
    from brr_lab.audit import DEFAULT_PREVALENCE, audit_paths

    prevalence = DEFAULT_PREVALENCE if args.prevalence is None else args.prevalence
    result = audit_paths(args.paths, prevalence)
    if args.json:
        print(strict_json.dumps(result.as_dict(), indent=2))
    else:
        print(format_text(result))
    return result.exit_code


def format_text(result) -> str:
    """The human-readable report: header, one block per config, drift table, findings."""
    from brr_lab.audit import format_value as _v, is_default_prevalence

    pi = result.prevalence
    source = ("default: 1/13, TUSZ-like; set --prevalence" if is_default_prevalence(pi)
              else "from --prevalence")
    lines = [f"prevalence {pi:.4g} ({source}): {(1 - pi) / pi:.3g} negatives per positive",
             f"{len(result.configs)} config(s) audited", ""]
    for c in result.configs:
        lines.append(f"{c.file}  [{c.layout}]")
        s = c.settings
        loss = f"loss {s['loss.kind']}"
        if s["loss.kind"] == "focal":
            loss += f" alpha={_v(s['loss.alpha'])} gamma={_v(s['loss.gamma'])}"
        loss += f" pos_weight={_v(s['loss.pos_weight'])}"
        if c.pos_weight_value is not None and s["loss.pos_weight"] in ("auto", "sqrt"):
            loss += f" (= {c.pos_weight_value:.4g})"
        sampler = ("sampler off" if not s["sampler.balanced"] else
                   f"sampler balanced target_fraction={_v(s['sampler.target_fraction'])}"
                   f" (= {c.sampler_fraction:.3g} positives per batch)")
        lines.append(f"  {loss}; {sampler}")
        lines.append(f"  mechanisms: {', '.join(c.mechanisms) or 'none'}"
                     f"{' (STACKED)' if c.stacked else ''}; effective ratio "
                     f"{c.effective_ratio:.4g}:1; q* = {c.q_star:.3g}; p* = {c.p_star:.3g}")
        lines += [f"  note: {n}" for n in c.notes]
    if result.configs:
        lines.append("")
    if result.drift:
        lines.append("drift (loss and sampling settings that differ between files):")
        for row in result.drift:
            head = (f"majority {_v(row.majority)} ({len(row.values[_v(row.majority)])} of "
                    f"{sum(len(f) for f in row.values.values())})" if row.has_majority
                    else "no majority")
            lines.append(f"  {row.key}: {head}")
            for value, files in row.values.items():
                if row.has_majority and value == _v(row.majority):
                    continue
                lines.append(f"    {value}: {', '.join(files)}")
        lines.append("")
    elif len(result.configs) > 1:
        lines += ["drift: none (loss and sampling settings agree across files)", ""]
    if result.findings:
        lines.append(f"findings ({len(result.findings)}):")
        for f in result.findings:
            where = f"{f.file}:{f.line}" if f.line else f.file
            key = f" {f.key}:" if f.key else ""
            lines.append(f"  {f.severity.upper():8s}{where}:{key} {f.message}")
    else:
        lines.append("findings: none")
    return "\n".join(lines)

