"""``anemoic data import``: netCDF/GRIB/zarr files (via xarray) -> a store in the anemoi layout.

Each source holds variables on ``(time, [level], [member], lat, lon)``.  All
sources are put on the first source's grid (after the optional ``area`` crop;
points another source lacks become NaN), their common dates are kept, the grid
is flattened row by row from north to south, and statistics cover only the
statistics period (the training period: give it, or every date is used).
Monthly means (``monthly=True``) are dated on the first of their month so that
sources that stamp months differently (mid-month, month-end) line up.
Torch-free: the compiler's ``anemoic data`` command calls it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from anemoic.plan.errors import UserError
from anemoic.plan.units import MONTH_S

IMPORT_VERSION = 2  # bump when the same sources would import differently (2: provenance names the command)
_TIME = ("time", "valid_time", "date", "t")
_LAT = ("lat", "latitude", "nav_lat")
_LON = ("lon", "longitude", "nav_lon")
_LEVEL = ("level", "plev", "isobaricInhPa", "lev", "pressure_level")
_MEMBER = ("number", "member", "realization", "ensemble")


class SourceError(UserError, ValueError):
    """A source cannot be imported as asked; the message says why (no traceback for users)."""


@dataclass(frozen=True)
class ImportOptions:
    rename: dict[str, str] = field(default_factory=dict)  # source variable -> store variable
    variables: tuple[str, ...] = ()  # source variables to keep (all with a time/lat/lon shape if empty)
    area: tuple[float, float, float, float] | None = None  # north, west, south, east in degrees
    monthly: bool = False
    start: str | None = None
    end: str | None = None
    statistics_start: str | None = None
    statistics_end: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)  # licence, attribution, description...
    # average blocks of coarsen x coarsen points (after the area crop; rows and columns that do not fill a block
    # are dropped): the mean of a block's valid points, NaN where it has none (a "perfect model" coarse twin)
    coarsen: int | None = None


def recipe_hash(sources: Sequence[Path], options: ImportOptions) -> str:
    """Changes when a source's bytes, the options or the importer change: `prepare` re-imports then."""
    digest = hashlib.sha256(f"anemoic-import-{IMPORT_VERSION}".encode())
    for source in sources:
        digest.update(_file_sha256(Path(source)).encode())
    digest.update(repr(sorted(_hashed_options(options).items())).encode())
    return digest.hexdigest()


def _hashed_options(options: ImportOptions) -> dict[str, Any]:
    """The options as hashed: a field added since left out at its default, so stores imported before it keep
    their recipe hash (and ``prepare`` does not import them again)."""
    return {k: v for k, v in asdict(options).items() if not (k == "coarsen" and v is None)}


def _file_sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def import_sources(sources: Sequence[str | os.PathLike], out: str | os.PathLike, options: ImportOptions) -> Path:
    """Import `sources` into a new store at `out` (replacing one there) and return its path."""
    import xarray as xr

    from anemoic.datasets.writer import StoreWriter

    paths = [Path(s) for s in sources]
    for path in paths:
        if not path.exists():
            raise SourceError(f"source {path} does not exist")
    if options.coarsen is not None and options.coarsen < 1:
        raise SourceError(f"coarsen must be a whole number of points, at least 1, not {options.coarsen}")
    fields: list[tuple[str, Any]] = []
    grid = out_grid = None
    for path in paths:
        try:
            dataset = xr.open_zarr(path) if path.suffix == ".zarr" else xr.open_dataset(path)
        except Exception as exc:
            raise SourceError(f"source {path} cannot be opened by xarray: {exc}") from exc
        dataset = _standardise(dataset, path, options)
        if grid is None:
            grid = dataset[["lat", "lon"]]
        else:
            dataset = dataset.reindex(lat=grid.lat, lon=grid.lon, method="nearest", tolerance=1e-6)
        dataset = _coarsen(dataset, path, options.coarsen)
        out_grid = dataset[["lat", "lon"]] if out_grid is None else out_grid
        fields.extend(_fields(dataset, path, options))
    if not fields:
        raise SourceError(f"no variable with time, latitude and longitude dimensions in {', '.join(map(str, paths))}")
    names = [name for name, _ in fields]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SourceError(f"variables {duplicates} come from more than one source: rename them (--rename)")
    grid = out_grid
    dates = _common_dates([da for _, da in fields], options)
    frequency_s = _frequency(dates)
    lat2, lon2 = np.meshgrid(grid.lat.values.astype(np.float64), grid.lon.values.astype(np.float64), indexing="ij")
    stats_start = np.datetime64(options.statistics_start or dates[0], "s")
    stats_end = np.datetime64(options.statistics_end or dates[-1], "s")
    if not (dates >= stats_start).any() or not (dates <= stats_end).any() or stats_end < stats_start:
        raise SourceError(f"the statistics period {stats_start} to {stats_end} holds none of the dates "
                           f"{dates[0]} to {dates[-1]}")
    members = {int(da.sizes.get("member", 1)) for _, da in fields}
    if len(members) > 1:
        raise SourceError(f"sources have different numbers of ensemble members {sorted(members)}")
    attrs = _attributes(fields, grid, paths, options)
    n_members = members.pop()
    writer = StoreWriter(
        out, variables=tuple(names), dates=dates, latitudes=lat2.reshape(-1), longitudes=lon2.reshape(-1),
        ensembles=n_members, frequency_s=frequency_s, attrs=attrs, statistics_start=stats_start,
        statistics_end=stats_end,
    )
    block = max(1, (64 << 20) // (len(names) * lat2.size * 4 * n_members))
    for first in range(0, len(dates), block):
        chunk = dates[first : first + block]
        arrays = [_values(da, chunk) for _, da in fields]  # each (T, E, G)
        writer.write(np.stack(arrays, axis=1))
    return writer.close()


def _standardise(dataset: Any, path: Path, options: ImportOptions) -> Any:
    renames = {}
    for standard, candidates in (("time", _TIME), ("lat", _LAT), ("lon", _LON), ("level", _LEVEL),
                                 ("member", _MEMBER)):
        found = next((c for c in candidates if c in dataset.dims or c in dataset.coords), None)
        if found is None and standard in ("time", "lat", "lon"):
            raise SourceError(f"source {path} has no {standard} coordinate (looked for {', '.join(candidates)})")
        if found is not None and found != standard:
            renames[found] = standard
    dataset = dataset.rename(renames)
    if dataset.lat.ndim != 1 or dataset.lon.ndim != 1:
        raise SourceError(f"source {path}: only regular latitude/longitude grids (1-D lat and lon) are supported")
    dataset = dataset.assign_coords(lon=(dataset.lon.values % 360.0)).sortby("lat", ascending=False).sortby("lon")
    if options.area is not None:
        north, west, south, east = options.area
        lon = dataset.lon.values
        inside_lon = (lon >= west % 360) & (lon <= east % 360) if west % 360 <= east % 360 else (
            (lon >= west % 360) | (lon <= east % 360))
        dataset = dataset.sel(lat=(dataset.lat <= north) & (dataset.lat >= south)).isel(lon=np.flatnonzero(inside_lon))
        if dataset.sizes["lat"] == 0 or dataset.sizes["lon"] == 0:
            raise SourceError(f"source {path}: the area {options.area} holds no grid point")
    if options.monthly:
        dataset = dataset.assign_coords(time=dataset.time.values.astype("datetime64[M]").astype("datetime64[ns]"))
    return dataset


def _coarsen(dataset: Any, path: Path, factor: int | None) -> Any:
    """Block means of ``factor`` x ``factor`` points, NaN-aware (a block of NaNs stays NaN); coordinates are the
    blocks' mean latitude and longitude."""
    if factor is None or factor == 1:
        return dataset
    if dataset.sizes["lat"] < factor or dataset.sizes["lon"] < factor:
        raise SourceError(f"source {path}: {dataset.sizes['lat']} x {dataset.sizes['lon']} points hold no block of "
                          f"{factor} x {factor} to coarsen")
    import warnings

    with warnings.catch_warnings():  # the mean of an all-NaN block is NaN, as intended
        warnings.simplefilter("ignore", RuntimeWarning)
        return dataset.coarsen(lat=factor, lon=factor, boundary="trim").mean()  # NaN-skipping for floats


def _fields(dataset: Any, path: Path, options: ImportOptions) -> list[tuple[str, Any]]:
    out = []
    for name, da in dataset.data_vars.items():
        if not {"time", "lat", "lon"} <= set(da.dims):
            continue
        if options.variables and name not in options.variables:
            continue
        extra = set(da.dims) - {"time", "lat", "lon", "level", "member"}
        if extra:
            raise SourceError(f"source {path}: variable {name!r} has dimensions {sorted(extra)} this importer "
                               f"does not know")
        target = options.rename.get(str(name), str(name))
        if "member" not in da.dims:
            da = da.expand_dims("member")
        da = da.transpose("time", *(["level"] if "level" in da.dims else []), "member", "lat", "lon")
        if "level" in da.dims:
            out.extend((f"{target}_{int(level)}", da.sel(level=level)) for level in da.level.values)
        else:
            out.append((target, da))
    missing = [v for v in options.variables if v not in dataset.data_vars]
    if missing and not out:
        raise SourceError(f"source {path} has none of the variables {missing}")
    return out


def _common_dates(arrays: list[Any], options: ImportOptions) -> np.ndarray:
    dates = None
    for da in arrays:
        these = np.asarray(da.time.values).astype("datetime64[s]")
        dates = these if dates is None else np.intersect1d(dates, these)
    dates = np.unique(dates)
    if options.start:
        dates = dates[dates >= np.datetime64(options.start, "s")]
    if options.end:
        dates = dates[dates <= np.datetime64(options.end, "s")]
    if len(dates) < 2:
        raise SourceError(f"the sources share {len(dates)} date(s) in the requested period; at least 2 are needed")
    return dates


def _frequency(dates: np.ndarray) -> int:
    steps = np.diff(dates.astype(np.int64))
    if (steps == steps[0]).all() and steps[0] > 0:
        return int(steps[0])
    months = np.diff(dates.astype("datetime64[M]").astype(np.int64))
    first_of_month = (dates == dates.astype("datetime64[M]").astype("datetime64[s]")).all()
    if first_of_month and (months == months[0]).all() and months[0] > 0:
        return int(months[0]) * MONTH_S
    bad = int(np.flatnonzero(steps != steps[0])[0]) + 1
    raise SourceError(
        f"dates are not evenly spaced ({dates[bad - 1]} -> {dates[bad]} after a step of {int(steps[0])} s); "
        f"for monthly means pass --monthly"
    )


def _values(da: Any, dates: np.ndarray) -> np.ndarray:
    selected = da.sel(time=dates.astype("datetime64[ns]"))
    values = np.asarray(selected.values, dtype=np.float32)  # (T, E, lat, lon)
    return values.reshape(values.shape[0], values.shape[1], -1)


def _attributes(fields: list[tuple[str, Any]], grid: Any, paths: list[Path], options: ImportOptions) -> dict:
    lat, lon = grid.lat.values, grid.lon.values
    spacing = {float(abs(np.diff(lat)).round(6).max()) if len(lat) > 1 else None,
               float(np.diff(lon).round(6).max()) if len(lon) > 1 else None}
    resolution = f"{spacing.pop():g}" if len(spacing) == 1 and None not in spacing else None
    metadata = {}
    for name, da in fields:
        entry = {k: str(da.attrs[k]) for k in ("units", "long_name", "standard_name") if k in da.attrs}
        entry.update(param=name.split("_")[0] if "level" in da.coords else name, source=str(da.name))
        if "level" in da.coords:
            entry["level"] = int(da.level.values)
        metadata[name] = entry
    attrs = {
        "resolution": resolution,
        "field_shape": [int(len(lat)), int(len(lon))],
        "variables_metadata": metadata,
        "constant_fields": [],
        "provenance": {
            "importer": f"anemoic data import v{IMPORT_VERSION}",
            "sources": [{"file": p.name, "sha256": _file_sha256(p), "bytes": p.stat().st_size} for p in paths],
            "options": {k: v for k, v in _hashed_options(options).items() if k != "attributes"},
        },
        "anemoic_import": {"recipe_hash": recipe_hash(paths, options)},
    }
    attrs.update(options.attributes)
    return attrs
