"""`anemoi-runtime`: run, predict from and evaluate the plans that `anemoic build` writes.

Sub-commands import torch and Lightning only when they run, so ``--help`` is
instant.  Exit codes: 0 ok, 2 a user mistake (bad plan, checkpoint, store or
argument) reported in one message without a traceback, 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings

# OpenMP threads that spin while waiting steal the CPU from each other (and from data-loader workers or
# a neighbour's job) on a busy node: a training step of the quickstart took 7.6 s instead of 0.12 s on 2
# shared cores.  Passive waiting costs nothing measurable when the cores are idle.  Set before torch is
# imported (the sub-commands import it); a value the user or the site already set is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def _exec(args: argparse.Namespace) -> int:
    from anemoic.runtime.training.run import exec_plan

    return exec_plan(args.plan, max_steps=args.max_steps, dry_run_only=args.dry_run, resume=args.resume,
                     debug=args.debug, preflight=not args.no_preflight)


def _profile(args: argparse.Namespace) -> int:
    from anemoic.runtime.profiling.command import profile_command

    return profile_command(args.plan, steps=args.steps, synthetic_only=args.synthetic_data, out=args.out)


def _predict(args: argparse.Namespace) -> int:
    from anemoic.runtime.inference.predict import predict_command

    return predict_command(args.checkpoint, date=args.date, steps=args.steps, output=args.output, device=args.device,
                           seed=args.seed, boundary=args.boundary)


def _evaluate(args: argparse.Namespace) -> int:
    from anemoic.runtime.inference.evaluate import evaluate_command

    return evaluate_command(args.forecast, store=args.store)


def _compare(args: argparse.Namespace) -> int:
    from anemoic.runtime.inference.compare import compare_command

    return compare_command(args.runs, leads=args.leads)


def _checkpoint_convert(args: argparse.Namespace) -> int:
    from anemoic.runtime.inference.convert import convert_command

    return convert_command(args.checkpoints, output=args.output, parent=args.parent)


def _checkpoint_list(args: argparse.Namespace) -> int:
    from anemoic.runtime.inference.catalogue import list_command

    return list_command(args.catalogue)


def _checkpoint_show(args: argparse.Namespace) -> int:
    from anemoic.runtime.inference.catalogue import show_command

    return show_command(args.checkpoint, catalogue=args.catalogue)


def _checkpoint_register(args: argparse.Namespace) -> int:
    from anemoic.runtime.inference.registry import register_command

    return register_command(args.checkpoint, catalogue=args.catalogue, with_ancestors=args.with_ancestors)


def _checkpoint_tag(args: argparse.Namespace) -> int:
    from anemoic.runtime.inference.registry import tag_command

    return tag_command(args.id, args.tag, catalogue=args.catalogue, remove=args.checkpoint_command == "untag")


def _checkpoint_lineage(args: argparse.Namespace) -> int:
    from anemoic.runtime.inference.registry import lineage_command

    return lineage_command(args.id, catalogue=args.catalogue)


def _checkpoint_gc(args: argparse.Namespace) -> int:
    from anemoic.runtime.inference.registry import gc_command

    return gc_command(catalogue=args.catalogue, keep=args.keep, dry_run=args.dry_run)


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="anemoi-runtime",
                                     description="Train, predict with and evaluate anemoic plans.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser("exec", help="train the model a plan.json describes")
    run.add_argument("plan", help="plan.json written by `anemoic build`")
    run.add_argument("--max-steps", type=int, default=None, metavar="N", help="stop after N optimiser steps")
    run.add_argument("--dry-run", action="store_true",
                     help="check plan, store, graph and model with one forward/backward pass, then stop")
    run.add_argument("--resume", metavar="RUN_DIR_OR_CKPT", default=None,
                     help="continue from a checkpoint file or the newest checkpoint of a run directory")
    run.add_argument("--debug", action="store_true",
                     help="debug mode (as `train { debug = true }`): a few dates, deterministic algorithms, "
                          "anomaly detection, stop at the first NaN/Inf naming where it appeared")
    run.add_argument("--no-preflight", action="store_true",
                     help="skip the pre-flight check (as `train { preflight = false }`): one training step at the "
                          "largest rollout and full batch before training, which stops an out-of-memory at once")
    run.set_defaults(func=_exec)

    prof = sub.add_parser("profile", help="time the phases of a few training steps and name the bottleneck")
    prof.add_argument("plan", help="plan.json written by `anemoic build`")
    prof.add_argument("--steps", type=int, default=10, metavar="N", help="timed steps, after one warm-up step "
                      "(default 10)")
    prof.add_argument("--synthetic-data", action="store_true",
                      help="only synthetic batches of the right shape, read nothing from the store (default: "
                           "store batches, then synthetic ones, to show what free data loading would gain)")
    prof.add_argument("--out", metavar="DIR", default=None,
                      help="where profile.md, profile.json and the trace go (default: RUN_DIR/profile)")
    prof.set_defaults(func=_profile)

    pred = sub.add_parser("predict", help="write a forecast from a training or inference checkpoint")
    pred.add_argument("checkpoint", help="a .ckpt file, a run directory (its newest checkpoint) or an inference "
                      "checkpoint folder")
    pred.add_argument("--date", required=True, help="initial time, e.g. 2020-01-21T00:00")
    pred.add_argument("--steps", type=int, required=True, help="number of forecast steps")
    pred.add_argument("-o", "--output", default="forecast.zarr", help="forecast.zarr (anemoi layout) or .nc")
    pred.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                      help="where the model runs (auto: a CUDA GPU when one is visible, with the training "
                           "precision's autocast)")
    pred.add_argument("--seed", type=int, default=None,
                      help="seed of an ensemble's noise (default: the plan's seed); the same seed writes the "
                           "same members")
    pred.add_argument("--boundary", default=None, metavar="STORE",
                      help="a limited-area model: force its boundary from STORE (e.g. a global model's forecasts) "
                           "instead of the store it was trained with; same grid, variables found by name")
    pred.set_defaults(func=_predict)

    ev = sub.add_parser("evaluate", help="score a forecast against the store, persistence and climatology")
    ev.add_argument("forecast", help="a forecast written by `anemoi-runtime predict`")
    ev.add_argument("--store", default=None, help="the verifying store (default: the one the forecast names)")
    ev.set_defaults(func=_evaluate)

    cmp = sub.add_parser("compare", help="score trained runs on the same validation samples, side by side")
    cmp.add_argument("runs", nargs="+", metavar="RUN", help="run directories, checkpoints or inference checkpoints "
                     "(the same store, variables, timestep and validation samples)")
    cmp.add_argument("--leads", type=int, default=2, metavar="N", help="the first N leads (default 2)")
    cmp.set_defaults(func=_compare)

    ckpt = sub.add_parser("checkpoint",
                          help="convert training checkpoints into inference checkpoints; list, "
                               "show and catalogue them")
    ckpt_sub = ckpt.add_subparsers(dest="checkpoint_command", metavar="ACTION", required=True)
    conv = ckpt_sub.add_parser("convert", help="write each training checkpoint as an inference checkpoint "
                               "(weights.safetensors + metadata.json)")
    conv.add_argument("checkpoints", nargs="+", metavar="CKPT",
                      help="training checkpoints (or run directories: their newest checkpoint)")
    conv.add_argument("-o", "--output", required=True, metavar="DIR",
                      help="folder that receives one inference checkpoint folder per CKPT")
    conv.add_argument("--parent", default=None, metavar="UUID", help="the uuid of the inference checkpoint the "
                      "training started from (fork, resume or warm start): the catalogue's lineage link")
    conv.set_defaults(func=_checkpoint_convert)
    lst = ckpt_sub.add_parser("list", help="the inference checkpoints of a folder (a local catalogue)")
    lst.add_argument("catalogue", nargs="?", default=".", metavar="DIR", help="the folder (default: .)")
    lst.set_defaults(func=_checkpoint_list)
    show = ckpt_sub.add_parser("show", help="what an inference checkpoint holds and where it came from")
    show.add_argument("checkpoint", metavar="ID", help="an inference checkpoint folder, or its uuid (or the start "
                      "of it) in the catalogue")
    show.add_argument("--catalogue", default=".", metavar="DIR", help="where to look a uuid up (default: .)")
    show.set_defaults(func=_checkpoint_show)
    where = ("the catalogue folder (default: $ANEMOIC_CATALOGUE, else ~/.anemoic/catalogue)")
    reg = ckpt_sub.add_parser("register", help="copy an inference checkpoint into the catalogue, atomically")
    reg.add_argument("checkpoint", metavar="CKPT_DIR", help="an inference checkpoint folder")
    reg.add_argument("--catalogue", default=None, metavar="DIR", help=where)
    reg.add_argument("--with-ancestors", action="store_true", help="also register the ancestors missing from the "
                     "catalogue, found beside CKPT_DIR")
    reg.set_defaults(func=_checkpoint_register)
    for action, text in (("tag", "tag a catalogued checkpoint (e.g. candidate, production)"),
                         ("untag", "remove a tag from a catalogued checkpoint")):
        tg = ckpt_sub.add_parser(action, help=text)
        tg.add_argument("id", metavar="ID", help="a uuid in the catalogue (or the start of one)")
        tg.add_argument("tag", metavar="TAG")
        tg.add_argument("--catalogue", default=None, metavar="DIR", help=where)
        tg.set_defaults(func=_checkpoint_tag)
    lin = ckpt_sub.add_parser("lineage", help="a catalogued checkpoint and its ancestors, newest first")
    lin.add_argument("id", metavar="ID", help="a uuid in the catalogue (or the start of one)")
    lin.add_argument("--catalogue", default=None, metavar="DIR", help=where)
    lin.set_defaults(func=_checkpoint_lineage)
    gcp = ckpt_sub.add_parser("gc", help="delete catalogued checkpoints beyond the newest N per plan hash "
                              "(never a tagged one or an ancestor of one kept)")
    gcp.add_argument("--keep", type=int, default=3, metavar="N", help="newest checkpoints kept per plan hash "
                     "(default 3)")
    gcp.add_argument("--dry-run", action="store_true", help="list what would be deleted, delete nothing")
    gcp.add_argument("--catalogue", default=None, metavar="DIR", help=where)
    gcp.set_defaults(func=_checkpoint_gc)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    # Lightning's advice to use srun when a SLURM installation is visible: noise outside a job (exec says the same)
    warnings.filterwarnings("ignore", message=".*`srun` command is available.*")
    from anemoic.plan.errors import UserError

    try:
        return int(args.func(args) or 0)
    except UserError as error:  # plan, store, graph or runtime: a message, never a traceback
        message = str(error)
        print(message if message.startswith("error:") else f"error: {message}", file=sys.stderr)
        return int(getattr(error, "exit_code", 2))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
