"""Datasets in the anemoi-datasets zarr layout, torch-free: read (metadata, dates, store, zarr_v2), write
(writer), make (synth, toy_physics, importer, prepare) and the computed forcings every reader shares.

The layer below both the compiler (which reads store metadata to check an experiment) and the runtime
(which reads samples), as anemoi-datasets is below anemoi-training.  Imports only ``anemoic.plan``
and ``anemoic.geo``; zarr and xarray load inside the functions that need them.
"""
