"""Policy profiles: every threshold of the rules, with the article it comes from, read from a TOML file per city.

Code reads a profile and never spells a policy number itself. A profile is validated as a whole when it is
read: a missing or unknown key, a wrong type or an impossible value is refused with the key and the reason.

A profile is a city's law: it carries the rules of its own text (and the national ones), nothing else. The
sections a city's text does not have (Yiwu has no block-line balance, no 50-亩 consolidation, no WZ §10
acceptance) are left out of its file: ``Profile.has(key)`` says whether a rule is there, and a caller that
needs an absent rule gets an ``InputError`` that says so in both languages. A planner who deliberately adopts
another city's rule writes it in with ``adopted_from = "wenzhou-2020 WZ §10"``; the finding then cites the
adopted article, never a mixed citation. Every article must be the profile's own (``article_prefix``, e.g.
``YW``), a national document, a platform default (``平台默认``) or a declared adoption.

Boundary words (民法典 第一千二百五十九条): every threshold says which word of the text it carries
(``boundary = "不足"``) and so whether the number itself is included: 以上、以下、以内、届满、满、达到、
不低于、不超过 include it; 不足、不满、超过、低于、以外、未达到 exclude it. ``BOUNDARY_WORDS`` holds the
table; the word must read in the sense the rule compares in (``THRESHOLDS``), and the rules ask
``Profile.includes(key)`` whether to compare strictly.

Examples
--------
>>> wz = get_profile("wenzhou-2020")
>>> wz.value("consolidation.min_mu"), wz.article("consolidation.min_mu")
(50.0, 'WZ §12')
>>> get_profile("yiwu").value("lease.major_max_years")
40
>>> wz.cite("construction.start_months")
'wenzhou-2020 WZ §6'
>>> wz.boundary("idle.stalled_developed_share"), wz.includes("idle.stalled_developed_share")
('不足', False)
>>> get_profile("yiwu").has("consolidation.min_mu")
False
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from geo.errors import InputError
from geo.fixes import fix
from geo.settings import get_settings
from zoning.policy_schema import BOUNDARY_WORDS, NATIONAL_SOURCES, OPTIONAL, SCHEMA, THRESHOLDS

__all__ = [
    "BOUNDARY_WORDS",
    "NATIONAL_SOURCES",
    "OPTIONAL",
    "PROFILE_DIR",
    "Parameter",
    "Profile",
    "SCHEMA",
    "THRESHOLDS",
    "get_profile",
    "governing_profiles",
    "list_profiles",
    "load_profile",
]

PROFILE_DIR = Path(__file__).resolve().parent / "profiles"

_SECTION_ZH = {
    "balance": "占补平衡",
    "consolidation": "连片开发",
    "bidding": "竞价出让",
    "acceptance": "达产验收",
    "mortgage": "抵押",
    "evaluation": "绩效评估",
    "construction": "开竣工期限",
    "review": "税收考核",
}
_SECTION_EN = {
    "balance": "occupy-one-replace-one balance",
    "consolidation": "consolidation zone",
    "bidding": "capped bidding",
    "acceptance": "full-production acceptance",
    "mortgage": "mortgage",
    "evaluation": "evaluation",
    "construction": "construction deadline",
    "review": "tax review",
}


@dataclass(frozen=True)
class Parameter:
    """One threshold: its value, the article it comes from, a note, its boundary word and any adoption."""

    key: str
    value: Any
    article: str
    note: str = ""
    boundary: str | None = None
    adopted_from: str | None = None

    @property
    def includes(self) -> bool | None:
        """Whether the number itself meets the word (以下 → True, 不足 → False); None without a word."""
        return None if self.boundary is None else BOUNDARY_WORDS[self.boundary][1]


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
    city: str = ""
    article_prefix: str = ""
    jurisdiction: tuple[str, ...] = ()

    def has(self, key: str) -> bool:
        """Whether the profile carries the rule ``key`` (a city's text may not have it)."""
        return key in self.parameters

    def get(self, key: str, default: Any) -> Any:
        """The value of ``key``, or ``default`` when the profile does not carry the rule (it does not apply)."""
        return self.parameters[key].value if key in self.parameters else default

    def require(self, *keys: str) -> None:
        """Refuse (``InputError``, exit 2) unless the profile carries every rule of ``keys``."""
        for key in keys:
            if key not in self.parameters:
                raise self.absent(key)

    def _get(self, key: str) -> Parameter:
        try:
            return self.parameters[key]
        except KeyError:
            raise self.absent(key) from None

    def absent(self, key: str) -> InputError:
        """The refusal for a rule this profile does not carry."""
        section = key.split(".")[0]
        zh, en = _SECTION_ZH.get(section, key), _SECTION_EN.get(section, key)
        city = self.city or self.name
        return InputError(
            f"{city}的政策配置（{self.name}）没有{zh}规则（{key}）：{self.document}未作规定",
            f"the {self.name} policy profile has no {en} rule ({key}): {self.document} does not provide one",
            file=self.source,
            **fix("policy_rule"),
        )

    def value(self, key: str) -> Any:
        """The value of ``key`` (e.g. ``"consolidation.min_mu"``); an ``InputError`` when the profile lacks it."""
        return self._get(key).value

    def article(self, key: str) -> str:
        """The article ``key`` comes from (e.g. ``"WZ §12"``)."""
        return self._get(key).article

    def boundary(self, key: str) -> str | None:
        """The boundary word of threshold ``key`` (``"不足"``), None for a key that is no threshold."""
        return self._get(key).boundary

    def includes(self, key: str) -> bool:
        """Whether threshold ``key``'s number itself meets its word (民法典 §1259: 以下 yes, 不足 no)."""
        inc = self._get(key).includes
        if inc is None:
            raise ValueError(f"{key} is not a threshold with a boundary word")
        return inc

    def cite(self, key: str) -> str:
        """Profile and article, as every finding names them: ``"wenzhou-2020 WZ §12"``.

        An adopted rule cites the adopted article, ``"wenzhou-2020 WZ §10（yiwu 采用）"``.
        """
        p = self._get(key)
        if p.adopted_from:
            return f"{p.adopted_from}（{self.name} 采用）"
        return f"{self.name} {p.article}"

    def as_dict(self) -> dict[str, Any]:
        """The profile as plain data: what it is, and every parameter with its article."""
        return {
            "name": self.name,
            "title": self.title,
            "document": self.document,
            "source": self.source,
            "city": self.city or None,
            "effective_from": self.effective_from.isoformat() if self.effective_from else None,
            "effective_to": self.effective_to.isoformat() if self.effective_to else None,
            "jurisdiction": list(self.jurisdiction),
            "parameters": {
                k: {
                    "value": p.value,
                    "article": p.article,
                    "note": p.note,
                    "boundary": p.boundary,
                    "includes": p.includes,
                    "adopted_from": p.adopted_from,
                }
                for k, p in self.parameters.items()
            },
        }


def _refuse(path: Path, key: str, zh: str, en: str) -> InputError:
    return InputError(
        f"政策配置 {key}：{zh}",
        f"policy profile key {key}: {en}",
        file=str(path),
        fix_zh="对照 zoning/profiles/wenzhou-2020.toml 改正该项",
        fix_en="correct that key, following zoning/profiles/wenzhou-2020.toml",
    )


def load_profile(path: Path) -> Profile:
    """Read and validate a profile file.

    Every entry is checked on its own (:func:`_parameter`), then the profile as a whole: no parameter of
    the schema missing, a build period, start months within their maximum, and articles of the city's own
    text (``article_prefix``), national or declared adopted. The first problem is refused (``InputError``),
    naming the key.
    """
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
            params[key] = _parameter(path, key, entry)
    _check_complete(path, params)
    prefix = str(data.get("article_prefix", "")).strip()
    _check_articles(path, params, prefix)
    return Profile(
        name=data["name"],
        title=data["title"],
        document=data["document"],
        source=str(path),
        parameters=params,
        effective_from=data.get("effective_from"),
        effective_to=data.get("effective_to"),
        city=str(data.get("city", "")),
        article_prefix=prefix,
        jurisdiction=_jurisdiction(path, data.get("jurisdiction", [])),
    )


def _jurisdiction(path: Path, codes: Any) -> tuple[str, ...]:
    """The administrative codes where the text has force: six digits each (a province, a city or a county)."""
    if not isinstance(codes, list) or not all(
        isinstance(c, str) and len(c) == 6 and c.isdigit() and c != "000000" for c in codes
    ):
        raise _refuse(
            path,
            "jurisdiction",
            '须为六位行政区划代码的列表，如 ["330782"]（县）、["330300"]（市）',
            'must be a list of six-digit administrative codes, e.g. ["330782"] (a county), ["330300"] (a city)',
        )
    return tuple(codes)


def _parameter(path: Path, key: str, entry: Any) -> Parameter:
    """One entry of the file, checked against :data:`SCHEMA` (known key, value and article, type, value)."""
    if key not in SCHEMA:
        raise _refuse(path, key, "不是已知的参数", "is not a known parameter")
    if not isinstance(entry, dict) or "value" not in entry or not str(entry.get("article", "")).strip():
        raise _refuse(path, key, "须有 value 与 article（条款出处）", "needs a value and an article")
    kind, (check, meaning) = SCHEMA[key]
    value = entry["value"]
    if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
        raise _refuse(
            path,
            key,
            f"类型不对（{type(value).__name__}）",
            f"has the wrong type ({type(value).__name__})",
        )
    if not check(value):
        raise _refuse(
            path, key, f"取值 {value!r} 不合理：应为 {meaning}", f"value {value!r} must be {meaning}"
        )
    return Parameter(
        key,
        value,
        str(entry["article"]),
        str(entry.get("note", "")),
        boundary=_boundary(path, key, entry),
        adopted_from=_adoption(path, key, entry),
    )


def _check_complete(path: Path, params: dict[str, Parameter]) -> None:
    """Every required parameter there, a build period, and start months within their maximum."""
    missing = sorted(set(SCHEMA) - OPTIONAL - set(params))
    if missing:
        raise _refuse(path, ", ".join(missing), "缺少这些参数", "these parameters are missing")
    if not (
        {"construction.build_months_by_investment", "construction.completion_months_from_delivery"}
        & set(params)
    ):
        raise _refuse(
            path,
            "construction.build_months_by_investment",
            "须有建设期（或交地起竣工期限）",
            "a build period (or a completion period from delivery) is needed",
        )
    if params["construction.start_months"].value > params["construction.start_months_max"].value:
        raise _refuse(path, "construction.start_months", "大于 start_months_max", "exceeds start_months_max")


def _check_articles(path: Path, params: dict[str, Parameter], prefix: str) -> None:
    """Every article the city's own (``prefix``), national, or of a declared adoption."""
    for key, p in params.items():
        if prefix and not p.adopted_from and not _own_article(p.article, prefix):
            raise _refuse(
                path,
                key,
                f"条款“{p.article}”不是本市（{prefix}）或国家的规定：本市未规定的规则应删去，"
                "或以 adopted_from 注明采用",
                f"article '{p.article}' is neither this city's ({prefix}) nor "
                "national: leave out a rule the city's text lacks, or declare it with adopted_from",
            )


def _boundary(path: Path, key: str, entry: dict[str, Any]) -> str | None:
    """The boundary word of a threshold, checked against 民法典 §1259 and the sense its rule compares in."""
    word = entry.get("boundary")
    if key not in THRESHOLDS:
        if word is not None:
            raise _refuse(
                path, key, "不是阈值，不应有 boundary", "is no threshold and takes no boundary word"
            )
        return None
    if word is None:
        raise _refuse(
            path,
            key,
            "须写明边界用语 boundary（如“不足”“以下”），以定是否含本数",
            'needs its boundary word (boundary = "不足", "以下" …): whether the number is included',
        )
    if word not in BOUNDARY_WORDS:
        raise _refuse(
            path,
            key,
            f"边界用语“{word}”不认识：可用 {'、'.join(BOUNDARY_WORDS)}",
            f"boundary word '{word}' is unknown; use one of {', '.join(BOUNDARY_WORDS)}",
        )
    sense = THRESHOLDS[key]
    if BOUNDARY_WORDS[word][0] != sense:
        raise _refuse(
            path,
            key,
            f"边界用语“{word}”与该规则的比较方向不符（应为{'下限' if sense == 'above' else '上限'}用语）",
            f"boundary word '{word}' reads the wrong way for this rule (it needs a word of the "
            f"{'at-least' if sense == 'above' else 'at-most'} kind)",
        )
    if "includes" in entry and entry["includes"] is not BOUNDARY_WORDS[word][1]:
        raise _refuse(
            path,
            key,
            f"includes 与“{word}”的法定含义（民法典第一千二百五十九条）不符",
            f"includes contradicts the legal meaning of '{word}' (Civil Code art. 1259)",
        )
    return str(word)


def _adoption(path: Path, key: str, entry: dict[str, Any]) -> str | None:
    adopted = entry.get("adopted_from")
    if adopted is None:
        return None
    if not isinstance(adopted, str) or len(adopted.split()) < 2:
        raise _refuse(
            path,
            key,
            'adopted_from 须写明所采用的配置与条款，如 "wenzhou-2020 WZ §10"',
            'adopted_from must name the profile and article adopted, e.g. "wenzhou-2020 WZ §10"',
        )
    return adopted


def _own_article(article: str, prefix: str) -> bool:
    """Each part of ``article`` (split at ；) is the city's own (``prefix §n``) or a national source."""
    parts = [a.strip() for a in article.replace(";", "；").split("；") if a.strip()]
    return all(a.startswith(prefix + " ") or any(n in a for n in NATIONAL_SOURCES) for a in parts)


def _search_dirs() -> list[Path]:
    extra = get_settings().policy_dir  # BLOCKLINE_POLICY_DIR
    return ([extra] if extra else []) + [PROFILE_DIR]


def list_profiles() -> list[Profile]:
    """Every profile found (``BLOCKLINE_POLICY_DIR`` first, then the bundled ones), by name."""
    found: dict[str, Profile] = {}
    for folder in _search_dirs():
        for path in sorted(folder.glob("*.toml")):
            # read as get_profile reads one: again only when the file changed (every judgement asks, to tell
            # whose text governs each county: governing_profiles)
            profile = _cached(str(path.resolve()), path.stat().st_mtime)
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
    raise InputError(
        f"没有名为“{name_or_path}”的政策配置",
        f"no policy profile named '{name_or_path}'",
        fix_zh=f"可用：{names}；或给出 .toml 文件路径",
        fix_en=f"available: {names}; or give a .toml path",
    )


def _reach(area: str, county: str) -> int:
    """How closely ``area`` holds ``county``: 3 the county itself, 2 its city, 1 its province, 0 not at all."""
    from geo.home import covers  # lazy: geo.home imports sqlalchemy, which reading a profile does not need

    if not covers(area, county):
        return 0
    return 1 if area.endswith("0000") else 2 if area.endswith("00") else 3


def governing_profiles(
    default: Profile, counties: Iterable[str], *, profiles: Sequence[Profile] | None = None
) -> dict[str, Profile]:
    """The counties among ``counties`` whose parcels another city's text governs than ``default``'s: code → profile.

    A profile's ``jurisdiction`` names where its text has force (``jurisdiction = ["330782"]``: 义乌市). The
    deployment's profile (``default``) governs every county, except one that the jurisdiction of another city's
    profile reaches more closely than the default's own does: that county follows the text of its own city (a
    county's own text before its city's, before its province's). A profile of the default's own city (a copy, a
    later version) never takes a county from it: the deployment chose which of them applies. Two other cities'
    profiles that reach a county as closely are refused (``InputError``): which text applies there is the
    operator's to say; a profile of the operator's folder (``BLOCKLINE_POLICY_DIR``: an edited copy) is
    preferred to a bundled one.

    Parameters
    ----------
    default : Profile
        The deployment's profile (``BLOCKLINE_POLICY``).
    counties : iterable of str
        County codes, e.g. those of the store's current parcels.
    profiles : sequence of Profile, optional
        The profiles to consider; default every one found (``list_profiles``).

    Examples
    --------
    >>> wz = get_profile("wenzhou-2020")
    >>> {c: p.name for c, p in governing_profiles(wz, ["330302", "330782", "330102"]).items()}
    {'330782': 'yiwu'}
    >>> {c: p.name for c, p in governing_profiles(get_profile("yiwu"), ["330302", "330782", "330102"]).items()}
    {'330302': 'wenzhou-2020'}
    """
    others = [
        p for p in (list_profiles() if profiles is None else profiles) if p.city != default.city or not p.city
    ]
    others = [p for p in others if p.name != default.name and p.jurisdiction]
    out: dict[str, Profile] = {}
    for county in sorted(set(counties)):
        reach = {p.name: max(_reach(a, county) for a in p.jurisdiction) for p in others}
        best = max(reach.values(), default=0)
        if best == 0 or best <= max((_reach(a, county) for a in default.jurisdiction), default=0):
            continue  # no other text reaches it, or the deployment's own reaches it as closely
        closest = [p for p in others if reach[p.name] == best]
        if len(closest) > 1:  # the operator's own (BLOCKLINE_POLICY_DIR) before the bundled ones
            closest = [p for p in closest if Path(p.source).parent != PROFILE_DIR] or closest
        if len(closest) > 1:
            names = [p.name for p in closest]
            raise InputError(
                f"县级行政区 {county} 同时属于多个政策配置的适用范围（{'、'.join(names)}），无法确定适用哪一个",
                f"county {county} is in the jurisdiction of several policy profiles ({', '.join(names)}): "
                "which one applies cannot be told",
                fix_zh="在其中一个配置文件中删去或改窄 jurisdiction",
                fix_en="remove or narrow jurisdiction in all but one of those profile files",
            )
        out[county] = closest[0]
    return out
