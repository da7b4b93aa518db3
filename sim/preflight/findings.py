"""What a pre-flight check reports: a finding (one warning line) and a prediction."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Finding:
    """One warning: which check, about what (a dotted key), for which strategies."""

    check: str
    subject: str
    text: str
    strategies: list[str] = field(default_factory=list)

    def line(self) -> str:
        which = f" [{', '.join(self.strategies)}]" if self.strategies else ""
        return f"{self.subject}{which}: {self.text} ({self.check})"


@dataclass(frozen=True)
class Prediction:
    """The cost model's steady-state latency [s] and device energy above idle [J] of a strategy."""

    group: str
    strategy: str
    plan: str
    plans: int  # how many plans the strategy may choose among
    latency_s: float
    energy_j: float
