"""Inference from training checkpoints: ``predict`` writes forecasts, ``evaluate`` scores them."""
