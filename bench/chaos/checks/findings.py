"""What the checks found: violations as sentences, and the figures the report prints."""

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Findings:
    violations: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    review_reasons: Counter[str] = field(default_factory=Counter)
    queued_reasons: Counter[str] = field(default_factory=Counter)
    held_for_review: int = 0
    held_and_bought: int = 0

    def violation(self, text: str) -> None:
        self.violations.append(text)
