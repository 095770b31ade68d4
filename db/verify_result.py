"""What a verify found: each problem with where it is, and the result `keywatch verify` reports."""

from dataclasses import dataclass, field

from db.canonical import GENESIS


@dataclass(frozen=True)
class Problem:
    seq: int | None
    record: str
    message: str
    # 0: a record or chain link is wrong; 1: a body problem, which may only be a consequence of a rank-0 one;
    # 2: a listing's index disagrees with its evidence (also the consequence of any altered or removed record).
    rank: int = 0

    def __str__(self):
        where = f"chain seq {self.seq} ({self.record})" if self.seq is not None else self.record
        return f"{where}: {self.message}"


@dataclass
class VerifyResult:
    count: int = 0
    head: str = GENESIS
    bodies: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    def summary(self) -> str:
        if self.ok:
            return f"{self.count} records, chain head {self.head}"
        more = f" (and {len(self.problems) - 1} more problems)" if len(self.problems) > 1 else ""
        return f"verification FAILED: {self.first}{more}"
