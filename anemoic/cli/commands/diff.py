"""`anemoic diff A B`: what changes between two experiments (or built plans), and what it means.

Each difference shows both values, where each side set it, and its impact
class (resumable / warm-startable / incompatible) for a run continued from a
checkpoint of A.  Experiments are compiled without requiring their datasets.
"""

from __future__ import annotations

import argparse
import sys

from anemoic.cli.commands.build import EXIT_OK, CommandFailed, load_plans, pick_member


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("diff", help="resolved differences between two experiments or plans",
                            description="Compare the resolved plans of A and B (.anm experiments or built "
                                        "plan.json files); each difference is classed resumable, "
                                        "warm-startable or incompatible.")
    parser.add_argument("a", help="the first experiment (.anm) or plan.json")
    parser.add_argument("b", help="the second experiment (.anm) or plan.json")
    parser.add_argument("--member", type=int, default=0, help="sweep member to compare on both sides (default 0)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from anemoic.plan.diff import diff_plans
    from anemoic.plan.diff_text import render_differences

    try:
        plan_a = pick_member(load_plans(args.a), args.member, args.a)
        plan_b = pick_member(load_plans(args.b), args.member, args.b)
    except CommandFailed as failed:
        if str(failed):
            print(str(failed), file=sys.stderr)
        return failed.code
    print(render_differences(diff_plans(plan_a, plan_b), args.a, args.b), end="")
    return EXIT_OK
