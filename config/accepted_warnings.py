"""Warnings a stack accepts on purpose: `acceptedWarnings` lists each by the key it starts with (and, where a
key has several, a phrase it mentions) with the reason, so `--strict` holds a stack to every other warning."""

from __future__ import annotations

from pydantic import Field

from ._base import ConfigModel


class AcceptedWarning(ConfigModel):
    """One warning the stack accepts, and why."""

    key: str = Field(min_length=1)
    """The path the warning starts with, as printed: `cluster.endpointPublicAccessCidrs`, `models[0]`."""
    mentioning: str | None = None
    """A phrase the warning contains, to tell apart several warnings at one key (`resources.memory`)."""
    reason: str = Field(min_length=1)
    """Why this setup is intended; the preview prints it beside the warning."""

    def matches(self, warning: str) -> bool:
        starts = warning.startswith(self.key) and warning[len(self.key):len(self.key) + 1] in (":", " ", ".")
        return starts and (self.mentioning is None or self.mentioning in warning)


def split_accepted(warnings: list[str], accepted: list[AcceptedWarning]) -> tuple[list[str], list[tuple[str, str]]]:
    """(warnings still to report, (warning, `key (phrase): reason`) per accepted one); an entry that matches no
    warning is reported, so an acceptance cannot outlive the setup it was written for."""
    kept: list[str] = []
    taken: list[tuple[str, str]] = []
    for warning in warnings:
        entry = next((entry for entry in accepted if entry.matches(warning)), None)
        if entry is None:
            kept.append(warning)
        else:
            mention = "" if entry.mentioning is None else f" ({entry.mentioning})"
            taken.append((warning, f"{entry.key}{mention}: {entry.reason}"))
    for index, entry in enumerate(accepted):
        if not any(entry.matches(warning) for warning in warnings):
            kept.append(f"acceptedWarnings[{index}].key: no warning starts with {entry.key!r}"
                        f"{'' if entry.mentioning is None else f' and mentions {entry.mentioning!r}'}; delete the entry")
    return kept, taken
