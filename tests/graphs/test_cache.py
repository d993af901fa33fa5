import dataclasses
import logging

import numpy as np
import pytest

from anemoic.graphs import build as build_module
from anemoic.graphs.build import build_or_load
from tests.graphs.helpers import o_grid, recipe


def _refuse_to_build(*args, **kwargs):
    raise AssertionError("the graph was rebuilt instead of read from the cache")


def test_second_build_reads_the_cache(tmp_path, monkeypatch):
    first, path = build_or_load(recipe(), *o_grid(8), cache_dir=tmp_path)
    assert path.exists() and path.parent == tmp_path
    monkeypatch.setattr(build_module, "build_arrays", _refuse_to_build)
    second, again = build_or_load(recipe(), *o_grid(8), cache_dir=tmp_path)
    assert again == path
    for name in first.edges:
        np.testing.assert_array_equal(first.edges[name].edge_index, second.edges[name].edge_index)
        np.testing.assert_array_equal(first.edges[name].edge_attr, second.edges[name].edge_attr)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary files left behind


def test_a_changed_recipe_or_grid_builds_a_new_graph(tmp_path):
    _, path = build_or_load(recipe(), *o_grid(8), cache_dir=tmp_path)
    changed = recipe(decoder=dataclasses.replace(recipe().decoder, params={"k": 4}))
    arrays, other = build_or_load(changed, *o_grid(8), cache_dir=tmp_path)
    assert other != path
    assert arrays.edges["decoder"].edge_index.shape[1] == 4 * 544
    lat, lon = o_grid(8)
    _, moved = build_or_load(recipe(), lat, (lon + 1.0) % 360.0, cache_dir=tmp_path)
    assert moved not in (path, other)


@pytest.mark.parametrize("damage", [b"", b"not a zip file", None])
def test_a_corrupted_cache_is_rebuilt_with_a_warning(tmp_path, caplog, damage):
    expected, path = build_or_load(recipe(), *o_grid(8), cache_dir=tmp_path)
    if damage is None:  # truncated half-way
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    else:
        path.write_bytes(damage)
    with caplog.at_level(logging.WARNING, logger="anemoic.graphs.cache"):
        rebuilt, again = build_or_load(recipe(), *o_grid(8), cache_dir=tmp_path)
    assert "unusable" in caplog.text and "rebuilding" in caplog.text
    np.testing.assert_array_equal(rebuilt.edges["encoder"].edge_index, expected.edges["encoder"].edge_index)
    assert build_or_load(recipe(), *o_grid(8), cache_dir=tmp_path)[0].hidden_x.shape == expected.hidden_x.shape


def test_a_cache_file_with_inconsistent_arrays_is_rebuilt(tmp_path, caplog):
    _, path = build_or_load(recipe(), *o_grid(8), cache_dir=tmp_path)
    with np.load(path, allow_pickle=False) as stored:
        arrays = {key: stored[key] for key in stored.files}
    arrays["decoder__edge_index"] = arrays["decoder__edge_index"][:, ::-1].copy()  # no longer dst-sorted
    with open(path, "wb") as stream:
        np.savez(stream, **arrays)
    with caplog.at_level(logging.WARNING):
        rebuilt, _ = build_or_load(recipe(), *o_grid(8), cache_dir=tmp_path)
    assert "not sorted by destination" in caplog.text
    assert (np.diff(rebuilt.edges["decoder"].edge_index[1]) >= 0).all()


def test_the_cache_holds_no_pickled_objects(tmp_path):
    _, path = build_or_load(recipe(), *o_grid(8), cache_dir=tmp_path)
    with np.load(path, allow_pickle=False) as stored:
        assert all(stored[key].dtype != object for key in stored.files)
