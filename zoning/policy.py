"""Policy profiles: every threshold of the rules, with the article it comes from, read from a TOML file per city.

Code reads a profile and never spells a policy number itself. A profile is validated as a whole when it is
read: a missing or unknown key, a wrong type or an impossible value is refused with the key and the reason.

Examples
--------
>>> wz = get_profile("wenzhou-2020")
>>> wz.value("consolidation.min_mu"), wz.article("consolidation.min_mu")
(50.0, 'WZ §12')
>>> get_profile("yiwu").value("lease.major_max_years")
40
>>> wz.cite("construction.start_months")
'wenzhou-2020 WZ §6'
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from geo.errors import InputError

__all__ = ["Profile", "Parameter", "SCHEMA", "PROFILE_DIR", "list_profiles", "get_profile", "load_profile"]

PROFILE_DIR = Path(__file__).resolve().parent / "profiles"

# key → (type, check, what the check means)
_share = (lambda v: 0 <= v <= 1, "a share between 0 and 1")
_pos = (lambda v: v > 0, "greater than 0")
_nonneg = (lambda v: v >= 0, "0 or more")
_grades = (lambda v: all(g in ("A", "B", "C", "D") for g in v), "grades among A, B, C, D")
_any = (lambda v: True, "")


def _tiers(v: list) -> bool:
    return (len(v) > 0 and all(isinstance(t, list) and len(t) == 2 and t[0] > 0 and t[1] > 0 for t in v)
            and [t[0] for t in v] == sorted(t[0] for t in v))


SCHEMA: dict[str, tuple[type | tuple[type, ...], tuple[Any, str]]] = {
    "balance.occupy_replace": (bool, _any),
    "balance.sliver_min_mu": ((int, float), _nonneg),
    "balance.total_horizon_years": (int, _pos),
    "consolidation.min_mu": ((int, float), _pos),
    "consolidation.gap_m": ((int, float), _nonneg),
    "consolidation.low_efficiency_grades": (list, _grades),
    "consolidation.rating_years": (int, _pos),
    "consolidation.min_share_inside": ((int, float), _share),
    "idle.unstarted_years": ((int, float), _pos),
    "idle.reclaimable_years": ((int, float), _pos),
    "idle.stalled_developed_share": ((int, float), _share),
    "idle.stalled_investment_share": ((int, float), _share),
    "idle.stalled_years": ((int, float), _pos),
    "construction.start_months": (int, _pos),
    "construction.start_months_max": (int, _pos),
    "construction.build_months_by_investment": (list, (_tiers, "ascending [investment 万元, months] pairs")),
    "production.built_not_operating": (bool, _any),
    "production.operating_below_target": (bool, _any),
    "use.below_contract_far": (bool, _any),
    "transfer.make_up_tax_before_transfer": (bool, _any),
    "use.min_building_coverage": ((int, float), _share),
    "use.unbuilt_share": ((int, float), _share),
    "lease.ordinary_max_years": (int, _pos),
    "lease.major_max_years": (int, _pos),
    "lease.legal_max_years": (int, _pos),
    "bidding.price_cap_ratio": ((int, float), (lambda v: v >= 1, "1 or more")),
    "bidding.tax_commitment_years": (int, _pos),
    "acceptance.min_output_share": ((int, float), _share),
    "acceptance.min_tax_share": ((int, float), _share),
    "review.cycle_years": (int, _nonneg),
    "review.pay_difference_from_share": ((int, float), _share),
    "ratings.d_years_running": (int, _nonneg),
    "ratings.c_or_below_years_running": (int, _nonneg),
    "existing.min_tax_per_mu_wan": ((int, float), _nonneg),
    "transfer.min_tax_per_mu_wan": ((int, float), _nonneg),
    "transfer.city_standard_multiplier": ((int, float), _nonneg),
    "transfer.preempt_below_contract": (bool, _any),
    "transfer.preempt_before_full_production": (bool, _any),
    "transfer.preempt_seller_grades": (list, _grades),
    "mortgage.before_acceptance": (str, _any),
    "mortgage.after_acceptance": (str, _any),
    "evaluation.at_full_production": (bool, _any),
    "evaluation.every_years": (int, _nonneg),
    "evaluation.before_expiry_years": ((int, float), _nonneg),
    "evaluation.warn_days": (int, _nonneg),
}


@dataclass(frozen=True)
class Parameter:
    """One threshold: its value, the article it comes from, and a note."""

    key: str
    value: Any
    article: str
    note: str = ""


@dataclass(frozen=True)
class Profile:
    """A city's policy: named, with its document, and every parameter of ``SCHEMA``."""

    name: str
    title: str
    document: str
    source: str
    parameters: dict[str, Parameter] = field(repr=False)
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None

    def value(self, key: str) -> Any:
        """The value of ``key`` (e.g. ``"consolidation.min_mu"``)."""
        return self.parameters[key].value

    def article(self, key: str) -> str:
        """The article ``key`` comes from (e.g. ``"WZ §12"``)."""
        return self.parameters[key].article

    def cite(self, key: str) -> str:
        """Profile and article, as every finding names them: ``"wenzhou-2020 WZ §12"``."""
        return f"{self.name} {self.article(key)}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "title": self.title, "document": self.document, "source": self.source,
            "effective_from": self.effective_from.isoformat() if self.effective_from else None,
            "effective_to": self.effective_to.isoformat() if self.effective_to else None,
            "parameters": {k: {"value": p.value, "article": p.article, "note": p.note}
                           for k, p in self.parameters.items()},
        }


def _refuse(path: Path, key: str, zh: str, en: str) -> InputError:
    return InputError(f"政策配置 {key}：{zh}", f"policy profile key {key}: {en}", file=str(path),
                      fix_zh="对照 zoning/profiles/wenzhou-2020.toml 改正该项",
                      fix_en="correct that key, following zoning/profiles/wenzhou-2020.toml")


def load_profile(path: Path) -> Profile:
    """Read and validate a profile file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise _refuse(path, "(file)", f"不是有效的 TOML：{exc}", f"not valid TOML: {exc}") from exc
    for key in ("name", "title", "document"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise _refuse(path, key, "缺失或为空", "missing or empty")
    params: dict[str, Parameter] = {}
    for section, items in data.items():
        if not isinstance(items, dict):
            continue
        for name, entry in items.items():
            key = f"{section}.{name}"
            if key not in SCHEMA:
                raise _refuse(path, key, "不是已知的参数", "is not a known parameter")
            if not isinstance(entry, dict) or "value" not in entry or not str(entry.get("article", "")).strip():
                raise _refuse(path, key, "须有 value 与 article（条款出处）", "needs a value and an article")
            kind, (check, meaning) = SCHEMA[key]
            value = entry["value"]
            if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
                raise _refuse(path, key, f"类型不对（{type(value).__name__}）", f"has the wrong type ({type(value).__name__})")
            if not check(value):
                raise _refuse(path, key, f"取值 {value!r} 不合理：应为 {meaning}", f"value {value!r} must be {meaning}")
            params[key] = Parameter(key, value, str(entry["article"]), str(entry.get("note", "")))
    missing = sorted(set(SCHEMA) - set(params))
    if missing:
        raise _refuse(path, ", ".join(missing), "缺少这些参数", "these parameters are missing")
    if params["construction.start_months"].value > params["construction.start_months_max"].value:
        raise _refuse(path, "construction.start_months", "大于 start_months_max", "exceeds start_months_max")
    return Profile(name=data["name"], title=data["title"], document=data["document"], source=str(path),
                   parameters=params, effective_from=data.get("effective_from"),
                   effective_to=data.get("effective_to"))


def _search_dirs() -> list[Path]:
    extra = os.environ.get("BLOCKLINE_POLICY_DIR")
    return ([Path(extra)] if extra else []) + [PROFILE_DIR]


def list_profiles() -> list[Profile]:
    """Every profile found (``BLOCKLINE_POLICY_DIR`` first, then the bundled ones), by name."""
    found: dict[str, Profile] = {}
    for folder in _search_dirs():
        for path in sorted(folder.glob("*.toml")):
            profile = load_profile(path)
            found.setdefault(profile.name, profile)
    return sorted(found.values(), key=lambda p: p.name)


@lru_cache(maxsize=32)
def _cached(path: str, mtime: float) -> Profile:
    return load_profile(Path(path))


def get_profile(name_or_path: str) -> Profile:
    """A profile by name (``wenzhou-2020``, ``yiwu``) or by the path of a TOML file."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" and candidate.exists():
        return _cached(str(candidate.resolve()), candidate.stat().st_mtime)
    for folder in _search_dirs():
        path = folder / f"{name_or_path}.toml"
        if path.exists():
            return _cached(str(path.resolve()), path.stat().st_mtime)
    names = ", ".join(p.name for p in list_profiles())
    raise InputError(f"没有名为“{name_or_path}”的政策配置", f"no policy profile named '{name_or_path}'",
                     fix_zh=f"可用：{names}；或给出 .toml 文件路径", fix_en=f"available: {names}; or give a .toml path")
