"""Check reports: what was checked, whether it passed, and how it was decided."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace


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

    @property
    def assumed(self) -> int:
        """How many of its items were assumed rather than checked (the facts check)."""
        return sum(item.get("method") == "assumed" for item in self.items)

    @property
    def earned(self) -> bool:
        """Whether the check earned a check mark: it passed, and checked something
        (a facts check whose every fact is an assumption passed but earned nothing)."""
        return self.passed and self.method != "assumed"


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


def timed(result: CheckResult, seconds: float) -> CheckResult:
    """The result with the seconds it took."""
    return replace(result, seconds=round(seconds, 3))


def summarise(name: str, items: list[dict]) -> CheckResult:
    """One check from its items: passed if every item did, "proved" if every item was."""
    failed = [item for item in items if not item["passed"]]
    if not items:
        return CheckResult(name, False, "error", None, "nothing to check")
    if failed:
        first = failed[0]
        detail = f"{len(failed)} of {len(items)} failed; first: {first['what']}: {first['detail']}"
        return CheckResult(name, False, first["method"], None, detail, items=tuple(items))
    methods = {item["method"] for item in items}
    method = "proved" if methods == {"proved"} else "tested"
    said = f"{len(items)} comparison{'s' if len(items) != 1 else ''}"
    return CheckResult(name, True, method, None, said, items=tuple(items))


def item(what: str, verdict) -> dict:
    """One comparison's verdict as an item of a check."""
    return {
        "what": what,
        "passed": verdict.equal is True,
        "method": verdict.method if verdict.equal is not False else "failed",
        "tier": verdict.tier,
        "seconds": round(verdict.seconds, 4),
        "detail": verdict.detail,
    }
