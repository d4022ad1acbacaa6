"""Data: the taxonomy, samples and datasets, their checks, analysis and frozen versions."""
