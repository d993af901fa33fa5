"""Reading builder parameters from a plan's ``params`` record with messages that name the field."""

from __future__ import annotations

from typing import Any

from anemoic.graphs.errors import GraphError


def known(params: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    """Refuse parameters the builder does not read (a misspelt name would otherwise be ignored)."""
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        expected = ", ".join(allowed) if allowed else "none"
        raise GraphError(f"{where}: unknown parameter {unknown[0]!r} (expected: {expected})")


def whole(params: dict[str, Any], name: str, where: str, minimum: int | None = None,
          maximum: int | None = None) -> int:
    """A required integer parameter within [minimum, maximum]."""
    if name not in params:
        raise GraphError(f"{where}: parameter {name!r} is missing")
    value = params[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise GraphError(f"{where}: {name} must be a whole number, got {value!r}")
    _check_range(value, name, where, minimum, maximum)
    return value


def number(params: dict[str, Any], name: str, where: str, minimum: float | None = None) -> float:
    """A required positive-or-bounded real parameter."""
    value = optional_number(params, name, where, minimum)
    if value is None:
        raise GraphError(f"{where}: parameter {name!r} is missing")
    return value


def optional_number(params: dict[str, Any], name: str, where: str, minimum: float | None = None) -> float | None:
    """A real parameter that may be absent (None)."""
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise GraphError(f"{where}: {name} must be a number, got {value!r}")
    _check_range(float(value), name, where, minimum, None)
    return float(value)


def _check_range(value: float, name: str, where: str, minimum: float | None, maximum: float | None) -> None:
    if minimum is not None and value < minimum:
        raise GraphError(f"{where}: {name} must be >= {minimum:g}, got {value:g}")
    if maximum is not None and value > maximum:
        raise GraphError(f"{where}: {name} must be <= {maximum:g}, got {value:g}")


def check_area(area: dict) -> tuple[float, float, float, float]:
    """Validated (north, west, south, east) in degrees of a limited-area box."""
    try:
        north, west, south, east = (float(area[key]) for key in ("north", "west", "south", "east"))
    except KeyError as exc:
        raise GraphError(f"area needs north, west, south and east (degrees); {exc.args[0]!r} is missing") from None
    except (TypeError, ValueError):
        raise GraphError(f"area bounds must be numbers, got {dict(area)!r}") from None
    if not -90.0 <= south < north <= 90.0:
        raise GraphError(f"area needs -90 <= south < north <= 90, got south={south:g}, north={north:g}")
    if east - west < 360.0 and (east - west) % 360.0 == 0.0:
        raise GraphError(f"area has no width: west={west:g} and east={east:g} are the same meridian")
    return north, west, south, east
