"""Geometry on the sphere, torch-free and anemoic-free: grids, unit-sphere helpers, the icosahedron,
spherical Voronoi areas.  A leaf: it imports numpy and scipy only."""
