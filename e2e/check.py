"""One e2e check: what a stage module returns (`run(servers) -> list[Check]`), one output line each."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Check:
    stage: str
    name: str
    ok: bool
    detail: str = ""
    # Extra lines printed indented under the check (a failure's evidence, a listing).
    details: list[str] = field(default_factory=list)

    def line(self) -> str:
        return f"e2e {'ok  ' if self.ok else 'FAIL'} {self.stage:9} {self.name}" + (f"  ({self.detail})" if self.detail else "")
