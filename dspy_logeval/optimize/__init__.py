"""Optimization: DSPy optimizers compile a program on train; the result is scored on test against the baseline."""
