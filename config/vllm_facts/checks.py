"""Validation against the image's vLLM version: values that version refuses at start are errors at
their key, with the values it accepts; a setting that makes it switch engine or runner is said
plainly (a warning; an error where the version refuses to start). The facts are the generated
table for the image's version (config/vllm_facts/data), read from that version's own source.

The image's version: the image catalog's record for images built on a Neuron DLC
(config/image_catalog.py), else the version the tag names (config/sizing/vllm_memory.py
image_vllm_version); a tag that names none is checked against the newest version measured.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..compute_capability import compute_capability
from ..errors import ConfigIssue
from . import VllmFacts, facts_for, nearest_facts
from .selection import EngineChoice, choose

if TYPE_CHECKING:
    from ..model import ModelConfig
    from ..placement.records import PlacedModel


def image_facts(model: ModelConfig) -> tuple[VllmFacts | None, str]:
    """The facts of the image's vLLM, and how the version was found ("" when exact)."""
    from ..image_catalog import neuron_image
    from ..sizing.vllm_memory import image_vllm_version

    catalog = neuron_image(model.image)
    if catalog is not None and catalog.vllm_version:
        version, how = catalog.vllm_version, f"the vLLM {catalog.vllm_version} its base image installs (config/image_catalog.py)"
    else:
        found = image_vllm_version(model.image)
        version, how = str(found.version), "" if not found.assumed else found.describe()
    try:
        return facts_for(version), how
    except KeyError:
        facts = nearest_facts(version)
        return facts, f"{version} has no generated table; checked against {facts.version}, the nearest older one"


def _listing(values: Sequence[str]) -> str:
    return ", ".join(values)


def _refused(path: str, label: str, key: str, value: str, flag: str, accepted: Sequence[str], facts: VllmFacts,
             how: str, where: str) -> ConfigIssue:
    version = f"vLLM {facts.version}" + (f" ({how})" if how else "")
    return ConfigIssue(f"{path}.{key}", (
        f"{label}: {key} {value!r} is refused by {version}, the image's: {flag} accepts {_listing(accepted)} "
        f"({where}); pick one of those, or an image whose vLLM accepts {value!r}"))


def value_issues(index: int, model: ModelConfig, facts: VllmFacts, how: str = "") -> list[ConfigIssue]:
    """Flag values and parser names this version refuses."""
    path, label = f"models[{index}]", f"models[{index}] {model.name}"
    flags = facts.raw.get("flags", {})
    issues: list[ConfigIssue] = []
    checked = {"kvCacheDtype": (model.kv_cache_dtype, "--kv-cache-dtype"),
               "quantization": (model.quantization, "--quantization")}
    for key, (value, flag) in checked.items():
        entry = flags.get(flag) or {}
        accepted = [v for v in (entry.get("choices") or entry.get("literal_values") or []) if v != "None"]
        if value is not None and accepted and value not in accepted:
            where = ("argparse choices" if entry.get("choices") else
                     "ModelConfig checks it against QUANTIZATION_METHODS at start") + f", vllm/engine/arg_utils.py @ {facts.version}"
            issues.append(_refused(path, label, key, value, flag, accepted, facts, how, where))
    plugin = any(arg.startswith("--tool-parser-plugin") for arg in model.extra_args)
    parsers = {"toolCallParser": (model.tool_call_parser, "--tool-call-parser", "tool_call_parsers", plugin),
               "reasoningParser": (model.reasoning_parser, "--reasoning-parser", "reasoning_parsers", False)}
    for key, (value, flag, table, exempt) in parsers.items():
        accepted = facts.raw.get(table) or []
        if value and accepted and value not in accepted and not exempt:
            issues.append(_refused(path, label, key, value, flag, accepted, facts, how,
                                   "the parsers registered in its source; vLLM refuses any other name at start"))
    return issues


def unknown_flags(model: ModelConfig, facts: VllmFacts) -> list[tuple[int, str]]:
    """extraArgs flags this version's `vllm serve` does not define: (index in extraArgs, flag). argparse
    accepts `--no-X` for a boolean `--X` and vLLM's FlexibleArgumentParser `_` for `-`."""
    flags = facts.raw.get("flags", {})
    if not flags:
        return []
    unknown = []
    for position, arg in enumerate(model.extra_args):
        if not arg.startswith("--"):
            continue
        name = "--" + arg.split("=", 1)[0][2:].replace("_", "-")
        if name in flags or (name.startswith("--no-") and "--" + name[5:] in flags):
            continue
        unknown.append((position, name))
    return unknown


def engine_for(placed: PlacedModel) -> EngineChoice | None:
    """The engine choice of a GPU model (None off GPUs, where the image's vLLM does not profile memory)."""
    if placed.sizing.vllm is None:
        return None
    facts, _ = image_facts(placed.model)
    if facts is None:
        return None
    return choose(placed.model, facts, compute_capability(placed.sizing.instance.accelerator_model),
                  placed.sizing.architecture)


def vllm_issues(placed_models: Sequence[PlacedModel]) -> list[ConfigIssue]:
    """Refused values, and settings the version refuses to start with."""
    issues: list[ConfigIssue] = []
    for placed in placed_models:
        facts, how = image_facts(placed.model)
        if facts is None:
            continue
        issues += value_issues(placed.index, placed.model, facts, how)
        choice = engine_for(placed)
        if choice is not None and choice.refusal:
            issues.append(ConfigIssue(f"{placed.path}.{choice.refusal_key}", f"models[{placed.index}] {placed.model.name}: {choice.refusal}"))
    return issues


def vllm_warnings(placed_models: Sequence[PlacedModel]) -> list[str]:
    """Each engine or runner switch the version makes by itself, in its own words, with the consequence."""
    warnings: list[str] = []
    for placed in placed_models:
        facts, _ = image_facts(placed.model)
        if facts is not None:
            warnings += [f"{placed.path}.extraArgs[{position}]: {flag} is not a flag vLLM {facts.version} defines for "
                         f"`vllm serve` (its EngineArgs, FrontendArgs and add_argument calls, config/vllm_facts); "
                         f"argparse would exit with 'unrecognized arguments'"
                         for position, flag in unknown_flags(placed.model, facts)]
        choice = engine_for(placed)
        if choice is None or not choice.reasons:
            continue
        label = f"models[{placed.index}] {placed.model.name}"
        triton = "TRITON_ATTN_VLLM_V1" in (facts.raw.get("rules", {}).get("fp8_kv_cache_v1", {}).get("backends") or []
                                           if facts is not None else [])
        consequence = (" The V0 engine profiles a whole maxModelLen prompt without chunked prefill; the sizing "
                       "table shows what that leaves. " + (
                           "Set env VLLM_ATTENTION_BACKEND=TRITON_ATTN_VLLM_V1 (fp8 KV cache from compute capability "
                           "8.9) or drop kvCacheDtype to stay on V1." if triton else
                           f"Drop kvCacheDtype to stay on V1 (vLLM {choice.version} keeps an fp8 KV cache on V1 only "
                           "with FlashAttention 3 on compute capability 9).")
                       if choice.engine == "V0" and (placed.model.kv_cache_dtype or "").startswith("fp8") else "")
        warnings.append(f"{label}: vLLM {choice.version} runs it on {choice.label}: {'; '.join(choice.reasons)}.{consequence}")
    return warnings
