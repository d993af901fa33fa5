"""Graph-build benchmark: anemoic's builder against anemoi-graphs on the same recipe and grid, same run.

Cases (Anemoi's default recipe: encoder cut-off 0.6 x the hidden grid's reference distance,
processor multi-scale icosahedral edges over levels 1..n, decoder knn 3, spherical area weights,
edge length + direction):
  o96  + icosahedral level 5: ECMWF's octahedral reduced Gaussian O96 (40,320 points).
  n320 + icosahedral level 6: 542,080 points. The classic reduced Gaussian N320's points per row
       are a table, not a formula, so this uses an honest stand-in: the same 640 Gaussian latitudes
       and the same 542,080 points, rows in proportion to cos(latitude).

anemoi-graphs runs in its own virtual environment (default /tmp/ag-venv, made with
``python3 -m venv`` and ``pip install torch==2.13.0 anemoi-graphs``; override with
ANEMOI_GRAPHS_PYTHON). Where it is missing or fails, the reason is printed and its column skipped.

Usage: nice python benchmarks/graph_build.py [--cases o96,n320] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from anemoic.plan.model import EdgesPlan, GraphPlan, NodesPlan
from anemoic.runtime.models.graph_tensors import build_graph
from anemoic.geo.grids import cos_latitude_reduced_gaussian, octahedral_reduced_gaussian

CASES = {
    "o96": (lambda: octahedral_reduced_gaussian(96), 5, "O96 octahedral reduced Gaussian"),
    "n320": (lambda: cos_latitude_reduced_gaussian(320, 542_080), 6, "N320 stand-in (640 rows, 542,080 points)"),
}
RELATIONS = {"encoder": ("data", "to", "hidden"), "processor": ("hidden", "to", "hidden"),
             "decoder": ("hidden", "to", "data")}

ANEMOI_SCRIPT = r"""
import json, sys, time
import numpy as np
from anemoi.utils.config import DotDict
from torch_geometric.data import HeteroData
from anemoi.graphs.nodes import LatLonNodes, TriNodes
from anemoi.graphs.edges import CutOffEdges, KNNEdges, MultiScaleEdges

grid = np.load(sys.argv[1])
level = int(sys.argv[2])
started = time.perf_counter()
graph = HeteroData()
weights = DotDict({"area_weight": {"_target_": "anemoi.graphs.nodes.attributes.SphericalAreaWeights",
                                   "norm": "l1"}})
graph = LatLonNodes(grid["lat"], grid["lon"], name="data").update_graph(graph, attrs_config=weights)
graph = TriNodes(level, name="hidden").update_graph(graph, attrs_config=None)
attributes = DotDict({
    "edge_length": {"_target_": "anemoi.graphs.edges.attributes.EdgeLength", "norm": "unit-max"},
    "edge_dirs": {"_target_": "anemoi.graphs.edges.attributes.EdgeDirection", "norm": "unit-std"},
})
builders = [CutOffEdges("data", "hidden", cutoff_factor=0.6),
            MultiScaleEdges("hidden", "hidden", x_hops=1, scale_resolutions=level),
            KNNEdges("hidden", "data", num_nearest_neighbours=3)]
for builder in builders:
    graph = builder.update_graph(graph, attrs_config=attributes)
elapsed = time.perf_counter() - started
counts = {name: int(graph[rel].edge_index.shape[1]) for name, rel in
          (("encoder", ("data", "to", "hidden")), ("processor", ("hidden", "to", "hidden")),
           ("decoder", ("hidden", "to", "data")))}
print(json.dumps({"seconds": elapsed, "edges": counts}))
"""


def recipe(level: int) -> GraphPlan:
    return GraphPlan(
        name=f"bench-l{level}", cache_key="bench",
        data=NodesPlan("dataset"), hidden=NodesPlan("icosahedral", {"refinement": level}),
        encoder=EdgesPlan("cutoff", {"factor": 0.6, "max_neighbours": 64}),
        processor=EdgesPlan("multiscale", {"levels": level}),
        decoder=EdgesPlan("knn", {"k": 3}),
    )


def time_anemoic(lat: np.ndarray, lon: np.ndarray, level: int, repeat: int) -> tuple[float, dict, float]:
    """Best build time (no cache), edge counts, and the time to load the same graph from its cache."""
    best, graph = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        graph = build_graph(recipe(level), lat, lon)
        best = min(best, time.perf_counter() - started)
    counts = {name: int(graph[rel].edge_index.shape[1]) for name, rel in RELATIONS.items()}
    with tempfile.TemporaryDirectory() as cache:
        build_graph(recipe(level), lat, lon, cache_dir=cache)
        started = time.perf_counter()
        build_graph(recipe(level), lat, lon, cache_dir=cache)
        load = time.perf_counter() - started
    return best, counts, load


def time_anemoi(lat: np.ndarray, lon: np.ndarray, level: int) -> tuple[float, dict] | str:
    """anemoi-graphs' build time and counts in its own environment, or why it could not run."""
    python = os.environ.get("ANEMOI_GRAPHS_PYTHON", "/tmp/ag-venv/bin/python")
    if not Path(python).exists():
        return (f"{python} not found: create it with `python3 -m venv /tmp/ag-venv && "
                "/tmp/ag-venv/bin/pip install torch==2.13.0 anemoi-graphs`")
    with tempfile.TemporaryDirectory() as work:
        grid = Path(work) / "grid.npz"
        np.savez(grid, lat=lat, lon=lon)
        result = subprocess.run([python, "-c", ANEMOI_SCRIPT, str(grid), str(level)],
                                capture_output=True, text=True)
    if result.returncode != 0:
        return "anemoi-graphs failed: " + (result.stderr.strip().splitlines() or ["(no message)"])[-1]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    return report["seconds"], report["edges"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="o96,n320")
    parser.add_argument("--repeat", type=int, default=1, help="anemoic builds per case (best is kept)")
    args = parser.parse_args()
    import torch  # noqa: F401  (imported before timing: the runtime has it loaded already)
    import torch_geometric.data  # noqa: F401

    try:
        import anemoic.kernels  # noqa: F401
    except ImportError:
        pass
    print(f"graph build benchmark, {os.cpu_count()} CPU cores, Python {sys.version.split()[0]}")
    for case in args.cases.split(","):
        make_grid, level, description = CASES[case]
        lat, lon = make_grid()
        print(f"\n{case} + icosahedral level {level}: {description}; {lat.size:,} data nodes")
        ours, ours_edges, load = time_anemoic(lat, lon, level, args.repeat)
        theirs = time_anemoi(lat, lon, level)
        print(f"  {'':<22}{'encoder':>11}{'processor':>11}{'decoder':>11}{'seconds':>10}")
        print(f"  {'anemoic':<22}" + "".join(f"{ours_edges[n]:>11,}" for n in RELATIONS) + f"{ours:>10.2f}")
        print(f"  {'anemoic (cache load)':<22}{'':>33}{load:>10.2f}")
        if isinstance(theirs, str):
            print(f"  anemoi-graphs skipped: {theirs}")
            continue
        seconds, edges = theirs
        print(f"  {'anemoi-graphs':<22}" + "".join(f"{edges[n]:>11,}" for n in RELATIONS) + f"{seconds:>10.2f}")
        print(f"  speed-up (anemoi-graphs / anemoic): {seconds / ours:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
