"""`brr-lab weights`: what a weighting setup really does, as a table or JSON."""
from __future__ import annotations

import argparse


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "weights",
        help="effective class weights of alpha, gamma, pos_weight and a sampler",
        description="Print the constant-weight ratio, q*, p*, the equivalent BCE pos_weight "
        "and positives' gradient share for one weighting setup.",
    )
    p.add_argument("--alpha", type=_optional_float, default=None,
                   help="focal alpha, the weight of positives, in [0, 1] ('none' = off; default off)")
    p.add_argument("--gamma", type=float, default=2.0, help="focal gamma >= 0 (default 2; 0 = BCE)")
    p.add_argument("--pos-weight", type=_optional_float, default=None,
                   help="pos_weight > 0 as in BCEWithLogitsLoss ('none' = off; default off)")
    sampler = p.add_mutually_exclusive_group()
    sampler.add_argument("--sampler", choices=["none", "balanced"], default="none",
                         help="'balanced' draws 50/50 batches")
    sampler.add_argument("--sampler-fraction", type=float, default=None,
                         help="target positive fraction per batch, in (0, 1)")
    p.add_argument("--prevalence", type=float, required=True,
                   help="fraction of positive examples in the data, in (0, 1)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def _optional_float(text: str) -> float | None:
    if text.strip().lower() in ("none", "off"):
        return None
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'none', got {text!r}") from None


def run(args: argparse.Namespace) -> int:
    import numpy as np  # here, not at the top: `brr-lab --help` should not pay for NumPy

    from brr_lab import strict_json, weighting
    from brr_lab.weighting.policy import resolve_weighting

    fraction = 0.5 if args.sampler == "balanced" else args.sampler_fraction
    setup = resolve_weighting(alpha=args.alpha, gamma=args.gamma, pos_weight=args.pos_weight,
                              sampler_fraction=fraction, prevalence=args.prevalence,
                              allow_stacked=True)  # reported, not refused: this command explains
    # alpha=1 (or 0) gives one class no weight: ratios are infinite, which is the answer,
    # not a fault (text shows inf; JSON writes null with a note).
    with np.errstate(divide="ignore", invalid="ignore"):
        report = weighting.analyze(args.prevalence, args.alpha, args.gamma, args.pos_weight,
                                   fraction)
    figures = report.as_dict()
    out = {
        "ratio": figures["ratio"],
        "sampler_odds": figures["sampler_odds"],
        "effective_ratio": figures["effective_ratio"],
        "q_star": figures["q_star"],
        "p_star": figures["p_star"],
        "equivalent_pos_weight": figures["equivalent_pos_weight"],
        "pos_grad_share_at_init": figures["pos_grad_share_at_init"],
        "pos_grad_share_at_prior": figures["pos_grad_share_at_prior"],
        "mechanisms": setup.active_names,
        "stacked": setup.stacked,
        "warnings": list(setup.warnings),
    }
    if args.json:
        print(strict_json.dumps(out, indent=2))
    else:
        print(format_table(setup, out))
    return 0


def format_table(setup, out: dict) -> str:
    pi = setup.prevalence
    rows = [
        ("constant-weight ratio (pos:neg, per example)", f"{out['ratio']:.4g}"),
        ("sampler odds factor", f"{out['sampler_odds']:.4g}"),
        ("effective ratio (loss weights x sampler)", f"{out['effective_ratio']:.4g}"),
        ("q* (posterior above which 0.5 says positive)", f"{out['q_star']:.3f}"),
        ("p* (best constant prediction)", f"{out['p_star']:.3f}"),
        ("BCE pos_weight with the same q* (= effective ratio)", f"{out['effective_ratio']:.4g}"),
        ("BCE pos_weight with the same p*", f"{out['equivalent_pos_weight']:.4g}"),
        ("positives' gradient share at p=0.5", f"{out['pos_grad_share_at_init']:.1%}"),
        (f"positives' gradient share at p=prior ({pi:.4g})", f"{out['pos_grad_share_at_prior']:.1%}"),
    ]
    from tabulate import tabulate

    lines = [setup.summary(), "", tabulate(rows, tablefmt="plain", disable_numparse=True)]
    lines += ["", f"q* means: a model that minimises this loss predicts positive at threshold 0.5 "
              f"only where P(seizure | window) > {out['q_star']:.3f}; plain BCE uses 0.5."]
    lines += [f"warning: {w}" for w in out["warnings"] if f"warning: {w}" not in lines[0]]
    return "\n".join(lines)
