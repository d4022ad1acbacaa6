"""Core: errors, paths, provenance, files and the experiment config; imports nothing else of the project."""
