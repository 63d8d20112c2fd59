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
    from brr_lab.configs.audit import DEFAULT_PREVALENCE, audit_paths

    prevalence = DEFAULT_PREVALENCE if args.prevalence is None else args.prevalence
    result = audit_paths(args.paths, prevalence)
    if args.json:
        print(strict_json.dumps(result.as_dict(), indent=2))
    else:
        print(result.to_text())
    return result.exit_code
