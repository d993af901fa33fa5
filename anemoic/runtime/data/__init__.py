"""Data: anemoi-datasets zarr stores, sample windows, preprocessing, synthetic and imported stores.

Kept free of imports: ``anemoic.runtime.data.store`` must load without torch or zarr (the compiler
reads store metadata through it).  Modules: store/zarr_v2 (reading), writer/synth/toy_physics/grids/
importer/prepare (writing, torch-free), forcings, sampling, dataset, datamodule, preprocessing (torch).
"""
