"""Graphs on the sphere: node and edge builders, attributes, HeteroData output, npz cache.

This package stays importable without torch (the compiler reads ``sizes``); ``build_graph`` is
loaded on first use from ``anemoic.runtime.graphs.build``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["build_graph"]


def __getattr__(name: str) -> Any:
    if name == "build_graph":
        from anemoic.runtime.graphs.build import build_graph

        return build_graph
    raise AttributeError(f"module 'anemoic.runtime.graphs' has no attribute {name!r}")
