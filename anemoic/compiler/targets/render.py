"""The Jinja2 environment for target scripts: strict, shell-quoting, package templates only."""

from __future__ import annotations

import shlex
from functools import lru_cache
from typing import Any

import jinja2


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("anemoic.compiler.targets", "templates"),
        undefined=jinja2.StrictUndefined,  # a missing value is a bug, never an empty string in a script
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["q"] = lambda value: shlex.quote(str(value))
    return env


def render(template: str, **values: Any) -> str:
    return environment().get_template(template).render(**values)
