"""Production serving: prompt artifacts, the httpx-only analyzer, the API, Loki and promotion.

Never imports DSPy or litellm (an import-linter contract and tests/test_layers.py enforce it)."""
