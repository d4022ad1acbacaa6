"""SchemaJSONAdapter: DSPy's JSONAdapter, but every call sends the output JSON schema as response_format.

llama.cpp turns `response_format: {"type": "json_schema"}` into a grammar, so a tiny model's answer always parses
and enum fields only take taxonomy labels. DSPy's JSONAdapter only sends plain JSON mode for models litellm does not
know, which a 135M model ignores half the time.
"""

from __future__ import annotations

from typing import Any

import dspy
from dspy.adapters.json_adapter import _get_structured_outputs_response_format

# Free-text fields are bounded so a looping small model stops instead of filling max_tokens.
STRING_LIMITS = {"summary": 200, "component": 60, "reasoning": 600}
DEFAULT_STRING_LIMIT = 200
FREE_TEXT_LIMIT = 1500
"""Strings of signatures with no label field at all: DSPy's own (MIPROv2's dataset and program descriptions,
its proposed instructions), which a 200-character bound would cut mid-sentence."""
# A component is `namespace/container` or a bare component name. llama.cpp ignores maxLength when a pattern is
# given, so the pattern carries the length bound itself (a looping model must still stop).
COMPONENT_PATTERN = "^[a-z0-9][a-z0-9.-]{0,29}(/[a-z0-9][a-z0-9.-]{0,29})?$"


def response_schema(signature: type[dspy.Signature]) -> dict[str, Any]:
    """The JSON schema of the signature's outputs: enums for Literals, bounded strings, all fields required."""
    model = _get_structured_outputs_response_format(signature, use_native_function_calling=False)
    schema: dict[str, Any] = model.model_json_schema()
    labelled = any("enum" in prop for prop in schema.get("properties", {}).values())
    for name, prop in schema.get("properties", {}).items():
        prop.pop("title", None)
        if prop.get("type") == "string" and "enum" not in prop:
            prop["maxLength"] = STRING_LIMITS.get(name, DEFAULT_STRING_LIMIT) if labelled else FREE_TEXT_LIMIT
        if name == "component":
            prop["pattern"] = COMPONENT_PATTERN
            prop.pop("maxLength")
    schema.pop("title", None)
    return schema


def response_format(signature: type[dspy.Signature]) -> dict[str, Any]:
    """The OpenAI-style response_format carrying the signature's schema."""
    return {"type": "json_schema",
            "json_schema": {"name": "LogAnalysis", "strict": True, "schema": response_schema(signature)}}


class SchemaJSONAdapter(dspy.JSONAdapter):
    """JSONAdapter that always sends the signature's JSON schema (llama.cpp grammar) and never falls back."""

    def __init__(self) -> None:
        super().__init__(use_native_function_calling=False)

    def _prepare_response_format(self, lm: Any, lm_kwargs: dict[str, Any], signature: Any) -> None:
        lm_kwargs["response_format"] = response_format(signature)

    def user_message_output_requirements(self, signature: type[dspy.Signature]) -> str:
        # The grammar already holds the label sets; repeating every enum after the logs would put ~500
        # uncacheable tokens in each request (they follow the sample, so the prompt cache cannot reuse them).
        fields = ", then ".join(f"`{name}`" for name in signature.output_fields)
        return f"Respond with a JSON object in the following order of fields: {fields}."

    def __call__(self, lm: Any, lm_kwargs: dict[str, Any], signature: Any, demos: Any, inputs: Any) -> Any:
        # Straight to ChatAdapter's call: no retry through a second, schema-less JSON call.
        self._prepare_response_format(lm, lm_kwargs, signature)
        return dspy.ChatAdapter.__call__(self, lm, lm_kwargs, signature, demos, inputs)

    async def acall(self, lm: Any, lm_kwargs: dict[str, Any], signature: Any, demos: Any, inputs: Any) -> Any:
        self._prepare_response_format(lm, lm_kwargs, signature)
        return await dspy.ChatAdapter.acall(self, lm, lm_kwargs, signature, demos, inputs)
