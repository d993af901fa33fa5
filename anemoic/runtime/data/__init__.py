"""The training data path (torch): sample windows and their samplers, the windowed dataset, the
Lightning data module and the preprocessor (normalise, impute, remap).  Stores themselves are read
through ``anemoic.datasets``."""
