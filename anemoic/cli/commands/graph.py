"""`anemoic graph describe|plot EXP.anm`: build an experiment's graph and show it before training.

``describe`` prints node and edge counts, degree statistics per edge set, orphan warnings and
the cache file; ``plot`` draws nodes and a sample of each edge set on a map (PNG); for a limited-area
model both name the data nodes of the region and of the boundary dataset (the cut-out grid). Both build
the graph with the runtime's builder into the run's graph cache (``<run_dir>/graphs``, the
directory ``anemoi-runtime exec`` reads), so a later run starts with the graph ready. torch and
the builders load inside the handler: registering the command costs nothing at start-up.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from anemoic.cli.commands.build import EXIT_OK, EXIT_USAGE, CommandFailed, load_plans, pick_member


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("graph", help="build an experiment's graph and describe or plot it",
                            description="Build the graph of an experiment (or of a built plan.json) on its "
                                        "dataset grid, cache it where the run will read it, and describe or plot it.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    describe = actions.add_parser("describe", help="print node/edge counts, degrees and the cache path")
    plot = actions.add_parser("plot", help="draw nodes and a sample of edges on a map (PNG)")
    plot.add_argument("-o", "--output", required=True, metavar="PNG", help="where to write the picture")
    plot.add_argument("--edges", type=int, default=2000, metavar="N", help="edges drawn per edge set (default 2000)")
    for action in (describe, plot):
        action.add_argument("file", help="the experiment (.anm) or a built plan.json")
        action.add_argument("--member", type=int, default=0, help="sweep member (default 0)")
        action.add_argument("--cache-dir", metavar="DIR", help="graph cache directory (default: <run_dir>/graphs)")
        action.add_argument("--no-cache", action="store_true", help="build in memory; read and write no cache")
        action.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        plan = pick_member(load_plans(args.file, require_dataset=True), args.member, args.file)
        arrays, cache_file, sources = _build(plan, args)
        if args.action == "describe":
            from anemoic.graphs.describe import describe

            print(describe(plan.graph, arrays, cache_file, sources), end="")
            if plan.source is not None:  # the coarse points are the ones of node weight 0
                coarse = int((arrays.data_area_weight == 0).sum())
                print(f"note: a spatial downscaler's data nodes are the {coarse:,} points of "
                      f"`{plan.source.dataset.name}` (they send the encoder's edges), then the "
                      f"{arrays.num_nodes('data') - coarse:,} of `{plan.dataset.name}` (they receive the decoder's): "
                      "each set missing the other's edges is by design")
        else:
            if args.edges < 1:
                raise CommandFailed("error: --edges must be at least 1", EXIT_USAGE)
            from anemoic.graphs.plot import plot_graph

            output = plot_graph(arrays, args.output, max_edges=args.edges, title=f"graph {plan.graph.name}",
                                sources=sources)
            print(f"wrote {output}")
        return EXIT_OK
    except CommandFailed as failed:
        if str(failed):
            print(str(failed), file=sys.stderr)
        return failed.code


def _build(plan: object, args: argparse.Namespace) -> tuple[object, Path | None, object]:
    """The graph's arrays, its cache file and, for a limited-area model, which dataset each grid point is from."""
    from anemoic.compiler.data_grid import combined_grid
    from anemoic.datasets.store import StoreError, open_store
    from anemoic.graphs.build import build_or_load
    from anemoic.graphs.cutout import GridSources
    from anemoic.graphs.errors import GraphError

    cache_dir = None if args.no_cache else Path(args.cache_dir or Path(plan.outputs.run_dir) / "graphs")
    try:
        store = open_store(plan.dataset.path)
        if plan.source is not None:  # a spatial downscaler: the coarse grid in, the fine grid out (as the runtime)
            from anemoic.graphs.downscale import downscale_arrays

            coarse = open_store(plan.source.dataset.path)
            return downscale_arrays(plan.graph, coarse.latitudes, coarse.longitudes, store.latitudes,
                                    store.longitudes), None, None
        latitudes, longitudes, region_size, sources = store.latitudes, store.longitudes, None, None
        if plan.boundary is not None:  # the region, then the boundary beyond the margin (as the runtime builds it)
            grid = combined_grid(plan.dataset.path, plan.boundary.dataset.path, plan.boundary.margin_km)
            latitudes, longitudes, region_size = grid.lat, grid.lon, grid.region_size
            sources = GridSources.of(grid, plan.dataset.name, plan.boundary.dataset.name,
                                     len(open_store(plan.boundary.dataset.path).latitudes),
                                     plan.boundary.margin_km)
        arrays, cache_file = build_or_load(plan.graph, latitudes, longitudes, cache_dir, region_size)
        return arrays, cache_file, sources
    except StoreError as exc:
        raise CommandFailed(f"error: {exc}", EXIT_USAGE) from None
    except GraphError as exc:
        raise CommandFailed(f"error: graph {plan.graph.name}: {exc}", EXIT_USAGE) from None
    except OSError as exc:
        raise CommandFailed(f"error: cannot write the graph cache in {cache_dir}: {exc.strerror}", EXIT_USAGE) from None
