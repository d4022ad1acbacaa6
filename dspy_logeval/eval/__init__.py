"""Evaluation: samples become examples, a program (or the production analyzer) predicts, the runner records."""
