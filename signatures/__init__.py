"""Versioned DSPy signatures for log analysis; a new wording is a new class, old ones never change."""

from signatures.log_analysis import TEMPLATES, LogAnalysis, load_signature

__all__ = ["TEMPLATES", "LogAnalysis", "load_signature"]
