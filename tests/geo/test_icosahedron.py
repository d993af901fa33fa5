import numpy as np
import pytest

from anemoic.geo.icosahedron import num_nodes, refine


@pytest.mark.parametrize("level", range(0, 6))
def test_level_n_has_10_4n_plus_2_nodes_and_30_4r_edges_per_level(level):
    mesh = refine(level)
    assert len(mesh.xyz) == 10 * 4**level + 2 == num_nodes(level)
    assert [len(edges) for edges in mesh.level_edges] == [30 * 4**r for r in range(level + 1)]


def test_vertices_lie_on_the_unit_sphere_and_coarse_levels_are_prefixes():
    fine, coarse = refine(4), refine(2)
    np.testing.assert_allclose(np.linalg.norm(fine.xyz, axis=1), 1.0, atol=1e-12)
    np.testing.assert_array_equal(fine.xyz[: num_nodes(2)], coarse.xyz)
    for r in range(3):
        np.testing.assert_array_equal(fine.level_edges[r], coarse.level_edges[r])


def test_base_icosahedron_edges_all_have_the_same_length():
    mesh = refine(0)
    a, b = mesh.level_edges[0].T
    lengths = np.linalg.norm(mesh.xyz[a] - mesh.xyz[b], axis=1)
    np.testing.assert_allclose(lengths, lengths[0], rtol=1e-12)


def test_every_vertex_has_five_or_six_neighbours():
    mesh = refine(3)
    degree = np.bincount(mesh.level_edges[3].ravel(), minlength=len(mesh.xyz))
    assert (degree[:12] == 5).all() and (degree[12:] == 6).all()


def test_negative_refinement_is_refused():
    with pytest.raises(ValueError, match="refinement"):
        refine(-1)
