"""A cheap physical toy atmosphere for synthetic stores.

Anomalies are sums of smooth zonal waves ``A_k(t) cos^m(lat) cos(l lat + b)
cos(m (lon - c_k t) + p)`` that travel eastward (advection at a phase speed
that depends on the wavenumber) while their amplitudes follow a damped AR(1)
process whose damping grows with the wavenumber (diffusion): so the fields are
predictable beyond persistence, as a forecast model needs.  Variables are built
on top with physical couplings: temperature and geopotential are tied by the
hydrostatic relation through mean sea-level pressure, winds are geostrophic from
the lower-level pattern, 2 m temperature has a diurnal cycle stronger over land,
precipitation is a skewed non-negative function of a moisture field, and every
field has a seasonal cycle.
"""

from __future__ import annotations

import re
import zlib

import numpy as np

from anemoic.plan.units import DAY_S, HOUR_S

YEAR_S = 365.25 * DAY_S
R_DRY = 287.05
GRAVITY = 9.80665


class WaveField:
    """One anomaly field: K travelling waves with AR(1) amplitudes, unit variance on average."""

    def __init__(self, rng: np.random.Generator, lat: np.ndarray, lon: np.ndarray, timestep_s: float,
                 n_waves: int = 16, memory_days: float = 4.0) -> None:
        self.m = rng.integers(1, 7, n_waves).astype(float)  # zonal wavenumber
        self.l = rng.integers(0, 5, n_waves).astype(float)  # meridional structure
        self.phase = rng.uniform(0, 2 * np.pi, n_waves)
        self.beta = rng.uniform(0, 2 * np.pi, n_waves)
        self.speed = np.radians(rng.uniform(6.0, 14.0, n_waves) / self.m) / DAY_S  # rad/s, slower for large m
        size = self.m**2 + self.l**2
        self.stdev = 1.0 / np.sqrt(size)
        self.rho = np.exp(-timestep_s / (memory_days * DAY_S) * np.sqrt(size) / 2.0)
        self.amplitude = rng.standard_normal(n_waves) * self.stdev
        self._rng = rng
        phi = np.radians(lat)[:, None]
        self._lam = np.radians(lon)[:, None]
        cosphi = np.cos(phi)
        arg = self.l * phi + self.beta
        self._profile = cosphi**self.m * np.cos(arg)  # (G, K)
        # d/dphi of the profile, and profile / cos(phi) (finite at the poles since m >= 1)
        self._dprofile = -self.m * cosphi ** (self.m - 1) * np.sin(phi) * np.cos(arg) - self.l * cosphi**self.m * np.sin(arg)
        self._profile_over_cos = cosphi ** (self.m - 1) * np.cos(arg)
        variance = ((self._profile**2) * 0.5 * self.stdev**2).sum(axis=1).mean()
        self._scale = 1.0 / np.sqrt(variance)

    def step(self) -> None:
        noise = self._rng.standard_normal(len(self.amplitude)) * self.stdev
        self.amplitude = self.rho * self.amplitude + np.sqrt(1 - self.rho**2) * noise

    def _angle(self, time_s: float) -> np.ndarray:
        return self.m * (self._lam - self.speed * time_s) + self.phase  # (G, K)

    def value(self, time_s: float) -> np.ndarray:
        return self._scale * (self._profile * np.cos(self._angle(time_s))) @ self.amplitude

    def gradient(self, time_s: float) -> tuple[np.ndarray, np.ndarray]:
        """(d/dphi, 1/cos(phi) d/dlambda) of the field: meridional and zonal gradients on the sphere."""
        angle = self._angle(time_s)
        north = (self._dprofile * np.cos(angle)) @ self.amplitude
        east = (-self.m * self._profile_over_cos * np.sin(angle)) @ self.amplitude
        return self._scale * north, self._scale * east


class ToyAtmosphere:
    """Evaluates named variables on a grid at successive times (call ``advance`` between dates)."""

    def __init__(self, lat: np.ndarray, lon: np.ndarray, timestep_s: float, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.lat, self.lon = lat, lon
        self.upper = WaveField(rng, lat, lon, timestep_s)
        self.lower_own = WaveField(rng, lat, lon, timestep_s)
        self.thermal = WaveField(rng, lat, lon, timestep_s, memory_days=8.0)
        self.moisture = WaveField(rng, lat, lon, timestep_s, memory_days=2.0)
        self.land = WaveField(np.random.default_rng(seed + 7919), lat, lon, timestep_s).value(0.0) > 0.5
        self._sinlat = np.sin(np.radians(lat))
        self._coslat = np.cos(np.radians(lat))
        self._fields: list[WaveField] = [self.upper, self.lower_own, self.thermal, self.moisture]

    def advance(self) -> None:
        for field in self._fields:
            field.step()

    def evaluate(self, names: tuple[str, ...], time_s: float) -> np.ndarray:
        """(V, G) float32 values of `names` at `time_s` seconds since 1970-01-01."""
        season = np.cos(2 * np.pi * ((time_s % YEAR_S) / YEAR_S - 172 / 365.25))  # +1 in late June
        local_hour = ((time_s % DAY_S) / HOUR_S + self.lon / 15.0) % 24.0
        upper = self.upper.value(time_s)
        lower = 0.6 * upper + 0.8 * self.lower_own.value(time_s)
        thermal = 0.5 * self.thermal.value(time_s) + 0.5 * lower
        t_surface = 288.0 - 40.0 * self._sinlat**2 + 12.0 * self._sinlat * season + 3.0 * thermal
        msl = 101325.0 + 900.0 * lower * (0.3 + self._sinlat**2)
        cache: dict[str, np.ndarray] = {}

        def temperature(level: float) -> np.ndarray:
            return t_surface * (level / 1000.0) ** 0.19 + (2.0 + level / 1000.0) * thermal

        def geopotential(level: float) -> np.ndarray:
            mean_t = 0.5 * (t_surface + temperature(level))
            return R_DRY * mean_t * np.log(msl / 100.0 / level) + 250.0 * GRAVITY * (1 - level / 1000.0) * upper

        def wind(component: str, level: float | None) -> np.ndarray:
            field = self.upper if level is not None and level < 700 else self.lower_own
            north, east = field.gradient(time_s)
            climate_u = 10.0 * np.sin(2 * np.radians(self.lat)) ** 2 - 6.0 * self._coslat**4
            strength = 4.0 if level is None else 4.0 + 10.0 * (1 - level / 1000.0)
            if component == "u":
                return climate_u * (1.0 if level is None else 2.0 - level / 1000.0) - strength * 0.3 * north
            return strength * 0.3 * east

        for name in names:
            level_match = re.fullmatch(r"([a-z]+)_(\d+)", name)
            param, level = (level_match.group(1), float(level_match.group(2))) if level_match else (name, None)
            if param == "t" and level is not None:
                value = temperature(level)
            elif param == "z" and level is not None:
                value = geopotential(level)
            elif param in ("u", "v") and level is not None:
                value = wind(param, level)
            elif param == "q" and level is not None:
                value = 0.012 * (level / 1000.0) ** 3 * np.exp(0.06 * (t_surface - 288.0) + 0.3 * self.moisture.value(time_s))
            elif name == "2t":
                land = self.land.astype(float)
                diurnal = (1.5 + 5.0 * land) * np.cos(2 * np.pi * (local_hour - 15.0) / 24.0)
                value = t_surface + diurnal
            elif name in ("10u", "10v"):
                value = wind(name[-1], None)
            elif name in ("msl", "sp"):
                value = msl if name == "msl" else msl - 1200.0 * self.land
            elif name == "tp":
                trigger = self.moisture.value(time_s) - 0.5 * lower
                value = 0.002 * np.maximum(trigger - 0.3, 0.0) ** 1.5
            elif name == "lsm":
                value = self.land.astype(float)
            else:
                value = self._generic(name, upper, lower, thermal, season, cache)
            cache[name] = value
        return np.stack([cache[n] for n in names]).astype(np.float32)

    def _generic(self, name: str, upper: np.ndarray, lower: np.ndarray, thermal: np.ndarray,
                 season: float, cache: dict[str, np.ndarray]) -> np.ndarray:
        """Any other name: a fixed (name-seeded) mix of the anomaly fields on a climatology."""
        weights = np.random.default_rng(zlib.crc32(name.encode())).normal(size=5)
        offset = 10.0 * weights[4]
        return offset + weights[0] * upper + weights[1] * lower + weights[2] * thermal + (
            weights[3] * self._sinlat * season
        )
