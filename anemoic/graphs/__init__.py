"""Graphs on the sphere, torch-free: node and edge builders, attributes, sizes, describe, plot, npz cache.

The layer between the dataset grid and the model (as anemoi-graphs is): it imports only ``anemoic.plan``
and ``anemoic.geo`` (plus numpy/scipy), so the compiler reads graph sizes from it and
``anemoic graph describe`` builds graphs without torch.  The runtime turns the arrays into tensors.
"""
