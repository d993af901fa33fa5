"""The plan schema's version, and how a field is added within one."""

from __future__ import annotations

SCHEMA_VERSION = 3
ADDED_IN_SCHEMA = {"optional": True}
"""Metadata of a field added within a schema version (no bump): a file may leave it out, meaning its default,
so plans written before it still read with the same hash.  A later version bump makes it required again."""
