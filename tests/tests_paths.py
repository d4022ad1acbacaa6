"""Paths of the test fixtures, importable from any test module."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
MINI_GOLDEN = FIXTURES / "mini-golden"
