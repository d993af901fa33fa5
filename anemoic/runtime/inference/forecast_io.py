"""Forecast files: zarr in the anemoi-datasets layout, or netCDF through xarray.

Both hold the physical fields of the output variables for the initial time
(lead 0) and every forecast step, the grid, the area weights used for scoring,
and a JSON record of where the forecast came from (checkpoint, plan hash,
store, training period) so ``evaluate`` needs nothing else.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from anemoic.runtime.errors import RuntimeUserError

INFO_ATTRIBUTE = "anemoic_forecast"


@dataclass(frozen=True)
class Forecast:
    variables: tuple[str, ...]
    dates: np.ndarray  # datetime64[s], (T,) lead 0 first
    fields: np.ndarray  # float32 (T, E, G, V) physical units
    latitudes: np.ndarray
    longitudes: np.ndarray
    area_weight: np.ndarray  # (G,), sums to 1
    info: dict[str, Any]  # initial_date, timestep_s, checkpoint, plan_hash, store, train_start, train_end


def _format_of(path: Path) -> str:
    if path.suffix == ".zarr":
        return "zarr"
    if path.suffix in (".nc", ".nc4", ".netcdf"):
        return "netcdf"
    raise RuntimeUserError(f"error: {path}: a forecast is written as .zarr or .nc (netCDF), not {path.suffix or 'no suffix'!r}")


def point_datasets(forecast: Forecast) -> np.ndarray | None:
    """A stretched grid's forecast: the dataset name of each point (the region's first, then the outer
    dataset's, as its ``stretched`` record says); None for any other forecast."""
    record = forecast.info.get("stretched")
    if not record:
        return None
    points = len(forecast.latitudes)
    return np.array([record["region"]] * int(record["points"]) + [record["outer"]] * (points - int(record["points"])))


def write_forecast(forecast: Forecast, path: str | os.PathLike) -> Path:
    target = Path(path)
    if _format_of(target) == "zarr":
        return _write_zarr(forecast, target)
    return _write_netcdf(forecast, target)


def _write_zarr(forecast: Forecast, target: Path) -> Path:
    from anemoic.datasets.writer import StoreWriter

    writer = StoreWriter(
        target, variables=forecast.variables, dates=forecast.dates, latitudes=forecast.latitudes,
        longitudes=forecast.longitudes, ensembles=forecast.fields.shape[1],
        frequency_s=int(forecast.info["timestep_s"]), attrs={INFO_ATTRIBUTE: forecast.info},
        statistics_start=forecast.dates[0], statistics_end=forecast.dates[-1],
    )
    writer.write(np.ascontiguousarray(forecast.fields.transpose(0, 3, 1, 2)))  # (T, V, E, G)
    writer._small("area_weight", forecast.area_weight.astype(np.float64))  # inside the temporary store
    datasets = point_datasets(forecast)
    if datasets is not None:  # 0: the region's points, 1: the outer dataset's (names in the `stretched` record)
        writer._small("dataset_index", (datasets != datasets[0]).astype(np.int8))
    return writer.close()


def _write_netcdf(forecast: Forecast, target: Path) -> Path:
    import xarray as xr

    dims = ("time", "ensemble", "values")
    data = {name: (dims, forecast.fields[..., v]) for v, name in enumerate(forecast.variables)}
    data["area_weight"] = (("values",), forecast.area_weight.astype(np.float64))
    datasets = point_datasets(forecast)
    if datasets is not None:  # each point's dataset name: select one with `forecast.where(forecast.dataset == ...)`
        data["dataset"] = (("values",), datasets)
    dataset = xr.Dataset(
        data, coords={"time": forecast.dates.astype("datetime64[ns]"), "latitude": (("values",), forecast.latitudes),
                      "longitude": (("values",), forecast.longitudes)},
        attrs={INFO_ATTRIBUTE: json.dumps(forecast.info, sort_keys=True),
               "variables": json.dumps(list(forecast.variables))},
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        dataset.to_netcdf(temporary, engine="netcdf4")
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return target


def read_forecast(path: str | os.PathLike) -> Forecast:
    source = Path(path)
    if not source.exists():
        raise RuntimeUserError(f"error: forecast {source} does not exist")
    kind = _format_of(source)
    try:
        return _read_zarr(source) if kind == "zarr" else _read_netcdf(source)
    except (KeyError, ValueError, OSError) as exc:
        raise RuntimeUserError(f"error: {source} is not a forecast written by `anemoi-runtime predict` "
                               f"({type(exc).__name__}: {exc})") from None


def _read_zarr(source: Path) -> Forecast:
    import zarr

    group = zarr.open_group(str(source), mode="r")
    info = dict(group.attrs[INFO_ATTRIBUTE])
    fields = np.asarray(group["data"][:], dtype=np.float32).transpose(0, 2, 3, 1)  # (T, E, G, V)
    return Forecast(tuple(group.attrs["variables"]), np.asarray(group["dates"][:]).astype("datetime64[s]"), fields,
                    np.asarray(group["latitudes"][:]), np.asarray(group["longitudes"][:]),
                    np.asarray(group["area_weight"][:]), info)


def _read_netcdf(source: Path) -> Forecast:
    import xarray as xr

    with xr.open_dataset(source, engine="netcdf4") as dataset:
        variables = tuple(json.loads(dataset.attrs["variables"]))
        fields = np.stack([dataset[name].values for name in variables], axis=-1).astype(np.float32)
        return Forecast(variables, dataset["time"].values.astype("datetime64[s]"), fields,
                        dataset["latitude"].values, dataset["longitude"].values, dataset["area_weight"].values,
                        json.loads(dataset.attrs[INFO_ATTRIBUTE]))
