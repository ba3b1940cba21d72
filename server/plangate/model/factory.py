"""Building a provider: the real API and the scripted server share one code path."""

from __future__ import annotations

from plangate.model.anthropic import AnthropicProvider, RetryPolicy
from plangate.model.catalog import ModelInfo, model_for
from plangate.model.types import ModelRequestError, Thinking


def provider_for(
    model_id: str | None,
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    thinking: Thinking | None = None,
    retry: RetryPolicy | None = None,
) -> AnthropicProvider:
    """The provider for a resolved model id. Only `base_url` tells the real API (None) from
    the scripted server: the code path is the same."""
    model: ModelInfo | None = model_for(model_id)
    if model is None:
        raise ModelRequestError(f"unknown model {model_id!r}")
    return AnthropicProvider(
        model,
        api_key=api_key,
        base_url=base_url,
        thinking=thinking,
        retry=retry,
    )
