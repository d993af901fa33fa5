"""`anemoic new NAME --from TEMPLATE [--dataset STORE]`: start an experiment from a shipped example.

Writes NAME.anm (NAME may name a folder too: ``exps/sst``); refuses to overwrite a file.  With
``--dataset`` the store's variables, frequency and periods are filled in, so ``anemoic check``
accepts the new file against that store.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_OK, EXIT_USAGE = 0, 2


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("new", help="write a new experiment from a template (an example)",
                            description="Write NAME.anm from a template: one of the shipped examples "
                                        "(quickstart, aifs, ensemble, ...), optionally fitted to a dataset store.")
    parser.add_argument("name", metavar="NAME", help="the experiment's name; NAME.anm is written")
    parser.add_argument("--from", dest="template", required=True, metavar="TEMPLATE",
                        help="the example to start from (quickstart, aifs, ensemble, stretched, ...)")
    parser.add_argument("--dataset", metavar="STORE", help="a zarr store: fill in its variables and periods")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from anemoic.compiler.templates import TemplateError, render
    from anemoic.datasets.store import read_metadata
    from anemoic.plan.errors import UserError

    target = Path(args.name if args.name.endswith(".anm") else args.name + ".anm")
    if target.exists():
        print(f"error: `{target}` already exists; pick another name or remove it", file=sys.stderr)
        return EXIT_USAGE
    try:
        store = read_metadata(args.dataset) if args.dataset else None
        text = render(args.template, target.stem, target, store)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except (TemplateError, UserError) as exc:
        print(f"error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"error: cannot write `{target}`: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"wrote {target} from the `{args.template}` template; check it with `anemoic check {target}`")
    return EXIT_OK
