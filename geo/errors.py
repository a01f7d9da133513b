"""Errors a planner can act on: each says, in Chinese and English, what is wrong and how to fix it.

Examples
--------
>>> e = InputError("文件没有坐标系", "the file has no CRS", file="a.shp", fix_zh="用 --crs 指定", fix_en="pass --crs")
>>> print(e)
a.shp: 文件没有坐标系。处理：用 --crs 指定
a.shp: the file has no CRS. Fix: pass --crs
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = [
    "BlocklineError",
    "InputError",
    "ValidationError",
    "DatabaseUnavailable",
    "OutcomeUnknown",
    "Problem",
]


class BlocklineError(Exception):
    """Base error with a Chinese and an English sentence, the file and feature it concerns, and the fix."""

    exit_code = 2

    def __init__(
        self,
        zh: str,
        en: str,
        *,
        file: str | None = None,
        fix_zh: str | None = None,
        fix_en: str | None = None,
        fix_app_zh: str | None = None,
        fix_app_en: str | None = None,
    ) -> None:
        self.zh, self.en, self.file = zh, en, file
        self.fix_zh, self.fix_en = fix_zh, fix_en
        # the same fix naming the app's widgets instead of the command's flags (``geo.fixes``)
        self.fix_app_zh, self.fix_app_en = fix_app_zh, fix_app_en
        super().__init__(self._render())

    def _render(self) -> str:
        where = f"{self.file}: " if self.file else ""
        zh = f"{where}{self.zh}" + (f"。处理：{self.fix_zh}" if self.fix_zh else "")
        en = f"{where}{self.en}" + (f". Fix: {self.fix_en}" if self.fix_en else "")
        return f"{zh}\n{en}"

    def as_dict(self) -> dict[str, str | None]:
        """The error as JSON-ready fields."""
        return {
            "file": self.file,
            "message_zh": self.zh,
            "message_en": self.en,
            "fix_zh": self.fix_zh,
            "fix_en": self.fix_en,
            "fix_app_zh": self.fix_app_zh,
            "fix_app_en": self.fix_app_en,
        }


class InputError(BlocklineError, ValueError):
    """Bad input: a file, a parameter or a value the user can fix (exit code 2)."""


@dataclass(frozen=True)
class Problem:
    """One problem with one feature (row) of an input file."""

    row: int | None
    feature: str | None
    zh: str
    en: str

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"第{self.row}行/row {self.row}")
        if self.feature:
            where.append(self.feature)
        prefix = f"[{', '.join(where)}] " if where else ""
        return f"{prefix}{self.zh} / {self.en}"


@dataclass
class _Collected:
    problems: list[Problem] = field(default_factory=list)


class ValidationError(InputError):
    """Every problem found in one file, collected, so the user can fix them all at once.

    Examples
    --------
    >>> err = ValidationError([Problem(3, "宗地编号 A-1", "几何为空", "empty geometry")], file="p.shp")
    >>> err.problems[0].row
    3
    """

    def __init__(self, problems: Sequence[Problem], *, file: str | None = None, limit: int = 20) -> None:
        self.problems = list(problems)
        shown = "\n".join(f"  - {p}" for p in self.problems[:limit])
        more = len(self.problems) - limit
        if more > 0:
            shown += f"\n  … 另有 {more} 处 / {more} more"
        n = len(self.problems)
        super().__init__(
            f"{n} 处要素有问题，未写入任何数据：\n{shown}\n",
            f"{n} problem(s) in the features; nothing was written",
            file=file,
            fix_zh="修正上述要素后重新导入",
            fix_en="correct the features listed above and load the file again",
        )


class DatabaseUnavailable(BlocklineError):
    """The database could not be reached (exit code 3)."""

    exit_code = 3


class OutcomeUnknown(DatabaseUnavailable):
    """The connection was lost after COMMIT was sent: the work may or may not be written (exit code 3).

    Never "rolled back": the server may have committed before the reply was lost. What was written tells.
    """
