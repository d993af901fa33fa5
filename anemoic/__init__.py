"""anemoic: a typed language, compiler and runtime for data-driven weather-model experiments."""

__version__ = "0.1.0"
