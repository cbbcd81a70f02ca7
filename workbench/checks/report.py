"""Check reports: what was checked, whether it passed, and how it was decided."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class CheckResult:
    """One check of one derivation.

    ``method`` is ``proved`` (symbolic), ``tested`` (exact or high-precision random
    points), ``central`` or ``complex-step`` (numeric), or ``failed``/``error``.
    ``max_error`` is the worst relative error for numeric checks, else None.
    """

    name: str
    passed: bool
    method: str
    max_error: float | None = None
    detail: str = ""
    seconds: float = 0.0
    items: tuple[dict, ...] = field(default=())

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class DerivationReport:
    """Every check of one derivation; ``passed`` only when all of them passed."""

    slug: str
    title: str
    checks: tuple[CheckResult, ...]
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)

    def check(self, name: str) -> CheckResult:
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)

    def to_dict(self) -> dict:
        return {
            "slug": self.slug,
            "title": self.title,
            "passed": self.passed,
            "seconds": round(self.seconds, 3),
            "checks": [c.to_dict() for c in self.checks],
        }
