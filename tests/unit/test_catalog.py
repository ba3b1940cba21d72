"""The model table (models.toml) against the SDK's model list, and the cost of usage."""

from __future__ import annotations

from datetime import date
from typing import get_args

import pytest
from anthropic.types.model_param import ModelParam
from pydantic import ValidationError

from plangate.diagnostics import Severity
from plangate.model.catalog import ModelInfo, model_table
from plangate.model.usage import Usage, UsageLedger

TODAY = date(2026, 11, 29)
# Ids of the SDK's list that models.toml deliberately leaves out (each with a comment there).
LEFT_OUT: set[str] = set()


def sdk_model_ids() -> list[str]:
    literal = get_args(ModelParam)[0]
    return list(get_args(literal))


def model(name: str) -> ModelInfo:
    found = model_table().get(name)
    assert found is not None, name
    return found


@pytest.mark.parametrize("model_id", sdk_model_ids())
def test_every_sdk_model_id_is_in_the_table(model_id: str) -> None:
    if model_id in LEFT_OUT:
        assert model_table().get(model_id) is None
        return
    resolution = model_table().resolve(f"anthropic/{model_id}", TODAY)
    assert resolution.model is not None, resolution.notes
    assert all(note.severity is Severity.WARNING for note in resolution.notes)


def test_the_sdk_list_is_not_empty() -> None:
    assert len(sdk_model_ids()) > 10


@pytest.mark.parametrize(
    ("alias", "model_id"),
    [
        ("fable", "claude-fable-5-2"),
        ("opus", "claude-opus-5-5"),
        ("sonnet", "claude-sonnet-5-5"),
        ("haiku", "claude-haiku-5-5"),
    ],
)
def test_claude_code_short_names(alias: str, model_id: str) -> None:
    for reference in (alias, f"anthropic/{alias}", alias.upper()):
        resolution = model_table().resolve(reference, TODAY)
        assert resolution.model is not None and resolution.model.id == model_id
        assert resolution.notes == []


def test_mythos_is_not_a_short_name() -> None:
    resolution = model_table().resolve("mythos", TODAY)
    assert resolution.model is None
    assert resolution.notes[0].code == "model-unknown"


def test_retired_model_resolves_to_its_successor_with_a_warning() -> None:
    before = model_table().resolve("anthropic/claude-sonnet-4-5", date(2026, 11, 29))
    assert before.model is not None and before.model.id == "claude-sonnet-4-5"
    assert [n.code for n in before.notes] == ["model-deprecated"]
    assert (
        "2026-11-30" in before.notes[0].message and "claude-sonnet-5-5" in before.notes[0].message
    )

    after = model_table().resolve("anthropic/claude-sonnet-4-5-20250929", date(2026, 11, 30))
    assert after.model is not None and after.model.id == "claude-sonnet-5-5"
    [note] = after.notes
    assert note.severity is Severity.WARNING and note.code == "model-retired"
    assert "claude-sonnet-4-5" in note.message and "claude-sonnet-5-5" in note.message


def test_successor_chain_is_followed() -> None:
    # Sonnet 3.7 names Sonnet 4.6, which is not retired: one hop.
    resolution = model_table().resolve("claude-3-7-sonnet-latest", TODAY)
    assert resolution.model is not None and resolution.model.id == "claude-sonnet-4-6"
    # Opus 4.5 retires on 2027-01-22 and names Opus 5.5.
    later = model_table().resolve("claude-opus-4-5-20251101", date(2027, 1, 22))
    assert later.model is not None and later.model.id == "claude-opus-5-5"


def test_every_successor_chain_ends_in_a_usable_model() -> None:
    for entry in model_table().models:
        if entry.retired is None or entry.retired > TODAY:
            continue
        resolution = model_table().resolve(entry.id, TODAY)
        assert resolution.model is not None, entry.id
        assert not resolution.model.is_retired(TODAY)


def test_table_values_are_plausible() -> None:
    for entry in model_table().models:
        assert entry.min_cache_tokens in {512, 1024, 2048, 4096}, entry.id
        assert entry.max_output < entry.context_window, entry.id
        assert entry.cache_write_5m == pytest.approx(entry.input * 1.25), entry.id
        assert entry.cache_write_1h == pytest.approx(entry.input * 2), entry.id
        assert 0 < entry.cache_read < entry.input, entry.id
        if entry.thinking_required:
            assert entry.thinking_default == "adaptive", entry.id


def test_each_model_has_its_own_cache_read_price() -> None:
    # REFERENCES.md: usually 0.1x, but Opus 5.5 lists its own price.
    assert model("claude-opus-5-5").cache_read == pytest.approx(0.20)
    assert model("claude-sonnet-5-5").cache_read == pytest.approx(0.10)
    assert model("claude-fable-5-1").cache_read == pytest.approx(0.25)
    assert model("claude-sonnet-4-6").cache_read == pytest.approx(0.30)


def test_prefill_only_before_claude_4_6() -> None:
    with_prefill = {m.id for m in model_table().models if m.prefill}
    assert "claude-haiku-4-5" in with_prefill and "claude-opus-4-5" in with_prefill
    for name in ("claude-sonnet-4-6", "claude-opus-4-6", "claude-opus-4-8", "claude-opus-5-5"):
        assert name not in with_prefill
    assert (
        not {m.id for m in model_table().models if m.family in {"fable", "mythos"}} & with_prefill
    )


def test_thinking_settings() -> None:
    assert model("claude-opus-4-5").thinking_modes == ["enabled"]
    assert model("claude-opus-4-6").thinking_modes == ["enabled", "adaptive"]
    assert model("claude-opus-4-7").thinking_modes == ["adaptive"]
    assert model("claude-opus-4-8").thinking_default == "off"
    fable = model("fable")
    assert (fable.thinking_default, fable.thinking_required, fable.thinking_display) == (
        "adaptive",
        True,
        "omitted",
    )
    assert model("claude-sonnet-5").thinking_required is False
    assert model("claude-sonnet-4-6").thinking_display == "summarized"


def test_inconsistent_entries_are_rejected() -> None:
    base = model("claude-sonnet-4-6").model_dump()
    with pytest.raises(ValidationError, match="adaptive mode"):
        ModelInfo.model_validate(
            {**base, "thinking_modes": ["enabled"], "thinking_default": "adaptive"}
        )
    with pytest.raises(ValidationError, match="cannot default to off"):
        ModelInfo.model_validate({**base, "thinking_required": True})


# ---------------------------------------------------------------- names other tools write


def resolved(reference: str, today: date = TODAY) -> tuple[str | None, list[tuple[Severity, str]]]:
    resolution = model_table().resolve(reference, today)
    model_id = resolution.model.id if resolution.model else None
    return model_id, [(note.severity, note.code) for note in resolution.notes]


@pytest.mark.parametrize(
    ("reference", "model_id", "variant"),
    [
        ("anthropic/claude-sonnet-5-5#high", "claude-sonnet-5-5", "high"),
        ("claude-opus-5#max", "claude-opus-5", "max"),
        ("opus#fast", "claude-opus-5-5", "fast"),
    ],
)
def test_opencode_variant_is_noted_and_not_applied(
    reference: str, model_id: str, variant: str
) -> None:
    resolution = model_table().resolve(reference, TODAY)
    assert resolution.model is not None and resolution.model.id == model_id
    [note] = resolution.notes
    assert (note.severity, note.code) == (Severity.INFO, "model-variant")
    assert f"#{variant}" in note.message and "thinking:" in note.message


@pytest.mark.parametrize(
    ("reference", "model_id", "gateway"),
    [
        ("github-copilot/claude-sonnet-4.6", "claude-sonnet-4-6", "GitHub Copilot"),
        ("github-copilot/claude-opus-4.5", "claude-opus-4-5", "GitHub Copilot"),
        ("opencode/claude-haiku-4-5", "claude-haiku-4-5", "OpenCode Zen"),
        ("opencode/claude-sonnet-4-5", "claude-sonnet-4-5", "OpenCode Zen"),
        ("opencode-go/claude-sonnet-4-6", "claude-sonnet-4-6", "OpenCode Go"),
        ("openrouter/anthropic/claude-sonnet-4.5", "claude-sonnet-4-5", "OpenRouter"),
        ("openrouter/anthropic/claude-opus-4.6:thinking", "claude-opus-4-6", "OpenRouter"),
        (
            "amazon-bedrock/anthropic.claude-sonnet-4-5-20250929-v1:0",
            "claude-sonnet-4-5",
            "Amazon Bedrock",
        ),
        ("amazon-bedrock/us.anthropic.claude-opus-4-6-v1", "claude-opus-4-6", "Amazon Bedrock"),
        (
            "google-vertex-anthropic/claude-sonnet-4-5@20250929",
            "claude-sonnet-4-5",
            "Google Vertex AI",
        ),
        ("some-proxy/claude-haiku-4.5", "claude-haiku-4-5", "'some-proxy'"),
    ],
)
def test_a_claude_model_through_a_gateway_runs_on_anthropics_api(
    reference: str, model_id: str, gateway: str
) -> None:
    resolution = model_table().resolve(reference, TODAY)
    assert resolution.model is not None and resolution.model.id == model_id
    gateway_note, *others = resolution.notes
    assert (gateway_note.severity, gateway_note.code) == (Severity.INFO, "model-gateway")
    assert gateway in gateway_note.message and model_id in gateway_note.message
    # Only the table's own lifecycle warnings follow (Sonnet and Opus 4.5 are deprecated).
    assert all(note.code == "model-deprecated" for note in others)


def test_gateway_note_names_the_model() -> None:
    [note] = model_table().resolve("github-copilot/claude-sonnet-4.6", TODAY).notes
    assert note.message == (
        "'github-copilot/claude-sonnet-4.6' is Claude Sonnet 4.6 through GitHub Copilot; "
        "PlanGate calls it on Anthropic's API as claude-sonnet-4-6"
    )


def test_a_retired_model_through_a_gateway_moves_to_its_successor() -> None:
    assert resolved("github-copilot/claude-3.7-sonnet") == (
        "claude-sonnet-4-6",
        [(Severity.INFO, "model-gateway"), (Severity.WARNING, "model-retired")],
    )


@pytest.mark.parametrize(
    ("reference", "code"),
    [
        ("opencode/grok-code", "model-provider"),
        ("openai/gpt-5", "model-provider"),
        ("opencode-go/glm-5", "model-provider"),
        ("github-copilot/sonnet", "model-provider"),  # short names are Claude Code's, not theirs
        ("nan/glm5.3-flash#high", "model-provider"),
        ("github-copilot/claude-sonnet-9", "model-unknown"),
        ("grok-code", "model-unknown"),
    ],
)
def test_a_model_that_is_not_claude_is_an_error(reference: str, code: str) -> None:
    resolution = model_table().resolve(reference, TODAY)
    assert resolution.model is None
    error = resolution.notes[-1]
    assert (error.severity, error.code) == (Severity.ERROR, code)
    assert all(note.severity is not Severity.ERROR for note in resolution.notes[:-1])
    supported = "Claude models" if code == "model-provider" else "claude-sonnet-4-6"
    assert supported in error.message


@pytest.mark.parametrize(
    ("reference", "spelling", "model_id"),
    [
        ("claude-4-sonnet", "claude-sonnet-4", "claude-sonnet-4-6"),
        ("claude-4-opus", "claude-opus-4", "claude-opus-4-8"),
        ("claude-4-sonnet-20250514", "claude-sonnet-4-20250514", "claude-sonnet-4-6"),
        ("claude-sonnet-3-7", "claude-3-7-sonnet", "claude-sonnet-4-6"),
        ("anthropic/claude-3.5-haiku", "claude-3-5-haiku", "claude-haiku-4-5"),
    ],
)
def test_old_style_ids_resolve_through_the_reordered_id(
    reference: str, spelling: str, model_id: str
) -> None:
    resolution = model_table().resolve(reference, TODAY)
    assert resolution.model is not None and resolution.model.id == model_id
    alias, retired = resolution.notes
    assert (alias.severity, alias.code) == (Severity.INFO, "model-alias")
    assert f"using {spelling}" in alias.message
    # The reordered id is retired: the usual successor warning follows.
    assert (retired.severity, retired.code) == (Severity.WARNING, "model-retired")


def test_dotted_version_with_the_anthropic_provider() -> None:
    assert resolved("anthropic/claude-sonnet-4.6") == (
        "claude-sonnet-4-6",
        [(Severity.INFO, "model-alias")],
    )
    # Already an API id: no note beyond the lifecycle one.
    assert resolved("claude-3-7-sonnet") == (
        "claude-sonnet-4-6",
        [(Severity.WARNING, "model-retired")],
    )


@pytest.mark.parametrize(
    ("reference", "model_id", "says"),
    [
        ("best", "claude-fable-5-2", "uses fable"),
        ("opusplan", "claude-opus-5-5", "uses opus"),
        ("sonnet[1m]", "claude-sonnet-5-5", "1,000,000-token window"),
        ("opus[1m]", "claude-opus-5-5", "1,000,000-token window"),
        ("fable[1m]", "claude-fable-5-2", "1,000,000-token window"),
        ("claude-sonnet-4-6[1m]", "claude-sonnet-4-6", "uses claude-sonnet-4-6"),
    ],
)
def test_claude_code_choices_resolve_with_a_note(reference: str, model_id: str, says: str) -> None:
    resolution = model_table().resolve(reference, TODAY)
    assert resolution.model is not None and resolution.model.id == model_id
    [note] = resolution.notes
    assert (note.severity, note.code) == (Severity.INFO, "model-alias")
    assert says in note.message and model_id in note.message


@pytest.mark.parametrize("reference", ["default", "inherit", "Default"])
def test_default_and_inherit_name_no_model(reference: str) -> None:
    resolution = model_table().resolve(reference, TODAY)
    assert resolution.model is None
    [note] = resolution.notes
    assert (note.severity, note.code) == (Severity.INFO, "model-alias")
    assert "claude-sonnet-4-6" in note.message  # the default model the agent runs on


# ---------------------------------------------------------------- cost


def test_cache_writes_priced_by_ttl() -> None:
    sonnet = model("claude-sonnet-4-6")  # $3 in, $15 out, $3.75 5m write, $6 1h write, $0.30 read
    usage = Usage(
        input_tokens=1_000,
        output_tokens=500,
        cache_creation_input_tokens=10_000,
        cache_creation_1h_input_tokens=4_000,
        cache_read_input_tokens=20_000,
    )
    assert usage.cache_creation_5m_input_tokens == 6_000
    expected = (1_000 * 3 + 500 * 15 + 6_000 * 3.75 + 4_000 * 6 + 20_000 * 0.30) / 1e6
    assert usage.cost(sonnet) == pytest.approx(expected)
    all_5m = usage.model_copy(update={"cache_creation_1h_input_tokens": 0})
    assert all_5m.cost(sonnet) == pytest.approx(expected - 4_000 * (6 - 3.75) / 1e6)


def test_a_1h_count_above_the_total_is_capped() -> None:
    usage = Usage(cache_creation_input_tokens=100, cache_creation_1h_input_tokens=500)
    assert usage.cache_creation_5m_input_tokens == 0
    assert usage.cost(model("claude-sonnet-4-6")) == pytest.approx(100 * 6 / 1e6)


def test_long_context_band_applies_above_the_threshold() -> None:
    haiku = model("claude-haiku-5-5")
    band = haiku.long_context
    assert band is not None and band.above == 100_000
    at = Usage(input_tokens=40_000, cache_read_input_tokens=60_000, output_tokens=1_000)
    assert at.prompt_tokens == 100_000
    assert at.cost(haiku) == pytest.approx((40_000 * 0.10 + 60_000 * 0.01 + 1_000 * 0.50) / 1e6)
    over = at.model_copy(
        update={"cache_creation_input_tokens": 1, "cache_creation_1h_input_tokens": 1}
    )
    assert over.prompt_tokens == 100_001
    # Every token of the request, output included, pays the long-context band.
    expected = (40_000 * 0.50 + 60_000 * 0.05 + 1 * 1.0 + 1_000 * 2.50) / 1e6
    assert over.cost(haiku) == pytest.approx(expected)
    assert haiku.prices(100_001) == band
    assert haiku.prices(100_000).input == pytest.approx(0.10)


def test_models_without_a_band_pay_one_price() -> None:
    opus = model("claude-opus-5-5")
    assert opus.long_context is None
    usage = Usage(input_tokens=900_000, output_tokens=1_000)
    assert usage.cost(opus) == pytest.approx((900_000 * 4 + 1_000 * 20) / 1e6)


def test_cost_without_cache_uses_the_band_of_the_prompt() -> None:
    haiku = model("claude-haiku-5-5")
    small = Usage(input_tokens=1_000, cache_read_input_tokens=9_000, output_tokens=100)
    assert small.cost_without_cache(haiku) == pytest.approx((10_000 * 0.10 + 100 * 0.50) / 1e6)
    large = Usage(input_tokens=1_000, cache_read_input_tokens=199_000, output_tokens=100)
    assert large.cost_without_cache(haiku) == pytest.approx((200_000 * 0.50 + 100 * 2.50) / 1e6)
    assert large.cost(haiku) < large.cost_without_cache(haiku)


def test_ledger_cost_sums_turns_priced_one_by_one() -> None:
    haiku = model("claude-haiku-5-5")
    ledger = UsageLedger()
    turn = Usage(input_tokens=60_000, output_tokens=2_000)
    ledger.add(turn, phase="analysing")
    ledger.add(turn, phase="analysing")
    one = (60_000 * 0.10 + 2_000 * 0.50) / 1e6
    assert ledger.cost(haiku) == pytest.approx(2 * one)
    # The summed usage has a 120,000-token "prompt" that no single request had: pricing the
    # sum would wrongly apply the long-context band.
    assert ledger.total.cost(haiku) > ledger.cost(haiku)
    assert ledger.cost_without_cache(haiku) == pytest.approx(2 * one)
    assert UsageLedger().cost(haiku) == 0


def test_ledger_cost_matches_the_total_without_bands() -> None:
    sonnet = model("claude-sonnet-4-6")
    ledger = UsageLedger()
    ledger.add(Usage(input_tokens=10, cache_creation_input_tokens=5_000, output_tokens=20))
    ledger.add(
        Usage(
            input_tokens=30,
            cache_creation_input_tokens=2_000,
            cache_creation_1h_input_tokens=2_000,
            cache_read_input_tokens=5_000,
            output_tokens=40,
        )
    )
    assert ledger.cost(sonnet) == pytest.approx(ledger.total.cost(sonnet))
