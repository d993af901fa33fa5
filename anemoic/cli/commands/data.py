"""``anemoic data import|synth|prepare|show``: make and inspect stores in the anemoi layout.

Only argparse runs at import time; the handlers import the torch-free
``anemoic.runtime.data`` modules (numpy, zarr, xarray) when they run.
Exit codes: 0 done, 2 a user mistake or an unreadable input (one line on stderr).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("data", help="make, import and inspect datasets (anemoi zarr layout)",
                                   description="Make, import and inspect datasets in the anemoi-datasets zarr layout.")
    data = parser.add_subparsers(dest="data_command", metavar="ACTION", required=True)

    imp = data.add_parser("import", help="convert netCDF/GRIB/zarr files (via xarray) into a store",
                          description="Convert netCDF/GRIB/zarr files (read with xarray) into a store.")
    imp.add_argument("sources", nargs="+", metavar="SRC", help="input files; later ones are put on the first's grid")
    imp.add_argument("--out", required=True, help="the store to write (replaced if present)")
    imp.add_argument("--rename", action="append", default=[], metavar="SRC=NAME",
                     help="store a source variable under another name (repeatable), e.g. u=10u")
    imp.add_argument("--variables", default="", metavar="A,B", help="source variables to keep (default: all)")
    imp.add_argument("--area", metavar="N/W/S/E", help="crop to this box in degrees, e.g. 30/150/-20/275")
    imp.add_argument("--monthly", action="store_true", help="monthly means: date each on the first of its month")
    imp.add_argument("--coarsen", type=int, metavar="N",
                     help="average blocks of N x N points (NaN-aware): a coarse twin for spatial downscaling")
    imp.add_argument("--start", help="first date to keep (ISO 8601)")
    imp.add_argument("--end", help="last date to keep (ISO 8601)")
    imp.add_argument("--statistics-start", help="first date of the statistics (training) period")
    imp.add_argument("--statistics-end", help="last date of the statistics (training) period")
    imp.add_argument("--licence", help="licence text recorded in the store")
    imp.add_argument("--attribution", help="citation recorded in the store")
    imp.set_defaults(func=_import)

    synth = data.add_parser("synth", help="write a synthetic store (a toy atmosphere) for tests and benchmarks",
                            description="Write a synthetic store from a cheap physical toy atmosphere.")
    synth.add_argument("--out", required=True, help="the store to write (replaced if present)")
    synth.add_argument("--grid", default="o16", help="'oN' (octahedral reduced Gaussian) or 'NLATxNLON' (default o16)")
    synth.add_argument("--variables", help="comma-separated names (default: z_500,t_500,z_850,t_850,2t,10u,10v,msl,tp,lsm)")
    synth.add_argument("--start", default="2020-01-01", help="first date (default 2020-01-01)")
    synth.add_argument("--end", default="2020-01-31T18:00", help="last date (default 2020-01-31T18:00)")
    synth.add_argument("--frequency", default="6h", help="e.g. 6h, 1d, 1mo (default 6h)")
    synth.add_argument("--ensembles", type=int, default=1, help="ensemble members (default 1)")
    synth.add_argument("--missing-dates", default="", metavar="D1,D2", help="dates to mark missing")
    synth.add_argument("--nan-fraction", type=float, default=0.0, help="fraction of points that are NaN")
    synth.add_argument("--nan-variables", default="", metavar="A,B", help="variables that get those NaNs")
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--statistics-end", help="last date of the statistics period (default: the last date)")
    synth.set_defaults(func=_synth)

    prep = data.add_parser("prepare", help="import the real datasets shipped by installed packages",
                           description="Import the real datasets that installed packages ship (idempotent).")
    prep.add_argument("--out", default="data", help="folder for the stores (default: data)")
    prep.set_defaults(func=_prepare)

    show = data.add_parser("show", help="print a store's metadata", description="Print a store's metadata.")
    show.add_argument("store")
    show.set_defaults(func=_show)


def _split(text: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (text or "").split(",") if part.strip())


def _fail(action: str, message: str) -> int:
    print(f"anemoic data {action}: error: {message}", file=sys.stderr)
    return 2


def _import(args: argparse.Namespace) -> int:
    from anemoic.datasets.importer import ImportOptions, SourceError, import_sources
    from anemoic.datasets.store import StoreError, read_metadata

    rename = {}
    for item in args.rename:
        source, sep, name = item.partition("=")
        if not sep or not source or not name:
            return _fail("import", f"--rename takes SRC=NAME, got {item!r}")
        rename[source] = name
    area = None
    if args.area:
        try:
            area = tuple(float(x) for x in args.area.split("/"))
        except ValueError:
            area = ()
        if len(area) != 4:
            return _fail("import", f"--area takes N/W/S/E in degrees, got {args.area!r}")
    attributes = {k: v for k, v in (("licence", args.licence), ("attribution", args.attribution)) if v}
    options = ImportOptions(rename=rename, variables=_split(args.variables), area=area, monthly=args.monthly,
                            start=args.start, end=args.end, statistics_start=args.statistics_start,
                            statistics_end=args.statistics_end, attributes=attributes, coarsen=args.coarsen)
    try:
        path = import_sources(args.sources, args.out, options)
        meta = read_metadata(path)
    except (SourceError, StoreError, ValueError, OSError) as exc:
        return _fail("import", str(exc))
    print(f"wrote {path}: {len(meta.variables)} variables, {meta.date_count} dates, {meta.grid_size} points")
    return 0


def _synth(args: argparse.Namespace) -> int:
    from anemoic.datasets.store import read_metadata
    from anemoic.datasets.synth import DEFAULT_VARIABLES, write_synthetic_store

    try:
        path = write_synthetic_store(
            args.out, grid=args.grid, variables=_split(args.variables) or DEFAULT_VARIABLES, start=args.start,
            end=args.end, frequency=args.frequency, ensembles=args.ensembles,
            missing_dates=_split(args.missing_dates), nan_fraction=args.nan_fraction,
            nan_variables=_split(args.nan_variables), seed=args.seed, statistics_end=args.statistics_end,
        )
    except (ValueError, OSError) as exc:
        return _fail("synth", str(exc))
    meta = read_metadata(path)
    print(f"wrote {path}: {len(meta.variables)} variables, {meta.date_count} dates, {meta.grid_size} points")
    return 0


def _prepare(args: argparse.Namespace) -> int:
    from anemoic.datasets.importer import SourceError
    from anemoic.datasets.prepare import prepare

    try:
        prepare(args.out)
    except (SourceError, ValueError, OSError) as exc:
        return _fail("prepare", str(exc))
    return 0


def _show(args: argparse.Namespace) -> int:
    from anemoic.datasets.store import StoreError, read_metadata

    try:
        meta = read_metadata(args.store)
    except StoreError as exc:
        return _fail("show", str(exc))
    lines = [
        f"store        {meta.path}",
        f"variables    {', '.join(meta.variables)}",
        f"dates        {meta.start_date:%Y-%m-%dT%H:%M} to {meta.end_date:%Y-%m-%dT%H:%M} every "
        f"{meta.frequency} ({meta.date_count} dates, {len(meta.missing_dates)} missing)",
        f"grid         {meta.grid_size} points, resolution {meta.resolution or 'unknown'}, field shape "
        f"{'x'.join(map(str, meta.field_shape)) if meta.field_shape else 'unknown'}",
        f"ensembles    {meta.ensemble_size}",
        f"statistics   {'complete' if not meta.statistics_missing else 'missing for ' + ', '.join(sorted(meta.statistics_missing))}"
        f"{'; tendencies at ' + ', '.join(meta.tendency_frequencies) if meta.tendency_frequencies else ''}",
        f"constant     {', '.join(meta.constant_fields) or 'none'}",
        f"fingerprint  {meta.fingerprint}",
    ]
    print("\n".join(lines))
    return 0
