"""The LM side: the embedded llama.cpp server, the model catalogue, endpoints, and the DSPy client and adapter.

`server`, `models` and `endpoint` never import DSPy (the production API uses them); `dspy_lm` and `adapter` do."""
