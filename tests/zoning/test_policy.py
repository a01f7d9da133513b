"""Policy profiles: read, copied and changed by a user, refused with the key and the reason when wrong."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from geo.errors import InputError
from geo.settings import get_settings
from zoning.policy import (
    OPTIONAL,
    PROFILE_DIR,
    SCHEMA,
    get_profile,
    governing_profiles,
    list_profiles,
    load_profile,
)


def test_both_profiles_have_every_required_parameter_with_an_article() -> None:
    for profile in list_profiles():
        assert set(SCHEMA) - OPTIONAL <= set(profile.parameters) <= set(SCHEMA)
        assert all(p.article.strip() for p in profile.parameters.values())
    wz, yw = get_profile("wenzhou-2020"), get_profile("yiwu")
    # the numbers of the texts themselves
    assert wz.value("construction.build_months_by_investment") == [
        [100000.0, 24, "以下"],
        [200000.0, 30, "不满"],
        [1.0e18, 36, "以下"],
    ]
    assert yw.value("construction.completion_months_from_delivery") == 36  # YW §5: 3年内竣工
    assert (wz.value("lease.major_max_years"), yw.value("lease.major_max_years")) == (50, 40)
    assert (yw.value("ratings.d_years_running"), yw.value("ratings.c_or_below_years_running")) == (2, 3)
    assert (
        yw.value("transfer.min_tax_per_mu_wan") == 15.0
        and yw.article("transfer.min_tax_per_mu_wan") == "YW §14"
    )
    assert wz.cite("consolidation.min_mu") == "wenzhou-2020 WZ §12"


def _copy(tmp_path: Path, replace: tuple[str, str]) -> Path:
    path = tmp_path / "my-city.toml"
    shutil.copy(PROFILE_DIR / "wenzhou-2020.toml", path)
    text = path.read_text(encoding="utf-8").replace('name = "wenzhou-2020"', 'name = "my-city"')
    old, new = replace
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_a_copied_profile_with_a_changed_threshold_is_used(tmp_path: Path) -> None:
    path = _copy(tmp_path, ("[consolidation.min_mu]\nvalue = 50.0", "[consolidation.min_mu]\nvalue = 30.0"))
    profile = get_profile(str(path))
    assert profile.name == "my-city" and profile.value("consolidation.min_mu") == 30.0


@pytest.mark.parametrize(
    "replace, key, reason",
    [
        (
            (
                "[consolidation.min_share_inside]\nvalue = 0.05",
                "[consolidation.min_share_inside]\nvalue = 1.5",
            ),
            "consolidation.min_share_inside",
            "between 0 and 1",
        ),
        (
            ("[consolidation.min_mu]\nvalue = 50.0", '[consolidation.min_mu]\nvalue = "fifty"'),
            "consolidation.min_mu",
            "wrong type",
        ),
        (
            ("[consolidation.gap_m]", "[consolidation.gap_metres]"),
            "consolidation.gap_metres",
            "not a known parameter",
        ),
        (
            ('article = "WZ §12"\nboundary = "达到"', 'article = ""\nboundary = "达到"'),
            "consolidation.min_mu",
            "article",
        ),
        (
            (
                '[construction.build_months_by_investment]\nvalue = [[100000.0, 24, "以下"], [200000.0, 30, "不满"], '
                '[1.0e18, 36, "以下"]]',
                "[construction.build_months_by_investment]\nvalue = [[200000.0, 30], [100000.0, 24]]",
            ),
            "construction.build_months_by_investment",
            "ascending",
        ),
    ],
)
def test_an_invalid_profile_is_refused_with_the_key_and_reason(
    tmp_path: Path, replace: tuple[str, str], key: str, reason: str
) -> None:
    path = _copy(tmp_path, replace)
    with pytest.raises(InputError) as info:
        load_profile(path)
    assert key in str(info.value) and reason in str(info.value)


def test_a_missing_parameter_is_named(tmp_path: Path) -> None:
    path = _copy(tmp_path, ("[idle.stalled_years]\nvalue = 1", "[idle.other]\nvalue = 1"))
    text = path.read_text(encoding="utf-8")
    start = text.index("[idle.other]")
    path.write_text(text[:start] + text[text.index("[construction.start_months]") :], encoding="utf-8")
    with pytest.raises(InputError, match="idle.stalled_years"):
        load_profile(path)


def test_unknown_profile_name_lists_the_available() -> None:
    with pytest.raises(InputError, match="wenzhou-2020, yiwu"):
        get_profile("shanghai")


def test_a_folder_of_more_profiles_is_a_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (PROFILE_DIR / "yiwu.toml").read_text(encoding="utf-8")
    (tmp_path / "yiwu-2027.toml").write_text(
        text.replace('name = "yiwu"', 'name = "yiwu-2027"', 1), encoding="utf-8"
    )
    monkeypatch.setenv("BLOCKLINE_POLICY_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        assert get_settings().policy_dir == tmp_path  # read by the settings class, nowhere else
        assert [p.name for p in list_profiles()] == ["wenzhou-2020", "yiwu", "yiwu-2027"]
        assert get_profile("yiwu-2027").article("transfer.min_tax_per_mu_wan") == "YW §14"
        monkeypatch.setenv("BLOCKLINE_POLICY_DIR", "")  # set but empty: no folder, as before
        get_settings.cache_clear()
        assert get_settings().policy_dir is None
        assert [p.name for p in list_profiles()] == ["wenzhou-2020", "yiwu"]
    finally:
        monkeypatch.delenv("BLOCKLINE_POLICY_DIR")
        get_settings.cache_clear()


# -- jurisdiction: which city's text governs a county's parcels --------------------------------------------
def _city(tmp_path: Path, name: str, city: str, reach: str, base: str = "wenzhou-2020") -> Path:
    """A copy of a bundled profile under another name, city and jurisdiction."""
    text = (PROFILE_DIR / f"{base}.toml").read_text(encoding="utf-8")
    old_name, old_city = ('"wenzhou-2020"', '"温州市"') if base == "wenzhou-2020" else ('"yiwu"', '"义乌市"')
    old_reach = '["330300"]' if base == "wenzhou-2020" else '["330782"]'
    for old, new in ((f"name = {old_name}", f'name = "{name}"'), (f"city = {old_city}", f'city = "{city}"')):
        assert old in text
        text = text.replace(old, new, 1)
    assert f"jurisdiction = {old_reach}" in text
    path = tmp_path / f"{name}.toml"
    path.write_text(
        text.replace(f"jurisdiction = {old_reach}", f"jurisdiction = {reach}", 1), encoding="utf-8"
    )
    return path


def _governed(default: str, counties: list[str], profiles: list) -> dict[str, str]:
    return {
        c: p.name for c, p in governing_profiles(get_profile(default), counties, profiles=profiles).items()
    }


def test_each_county_is_judged_by_the_text_in_force_there(tmp_path: Path) -> None:
    wz, yw = get_profile("wenzhou-2020"), get_profile("yiwu")
    # 鹿城区 (温州), 义乌市 (金华), 上城区 (杭州): the bundled texts reach 温州市 and 义乌市
    counties = ["330302", "330782", "330102"]
    assert (wz.jurisdiction, yw.jurisdiction) == (("330300",), ("330782",))
    assert _governed("wenzhou-2020", counties, [wz, yw]) == {"330782": "yiwu"}
    assert _governed("yiwu", counties, [wz, yw]) == {"330302": "wenzhou-2020"}
    # a province's text reaches 杭州, not the counties whose own city's text reaches them more closely
    zj = load_profile(_city(tmp_path, "zhejiang", "浙江省", '["330000"]'))
    assert _governed("wenzhou-2020", counties, [wz, yw, zj]) == {"330782": "yiwu", "330102": "zhejiang"}
    # a deployment's own text reaching a county as closely keeps it (a province deployed, 义乌 by its own)
    assert _governed(str(tmp_path / "zhejiang.toml"), counties, [wz, yw, zj]) == {
        "330302": "wenzhou-2020",
        "330782": "yiwu",
    }


def test_a_copy_of_the_deployments_own_city_never_takes_its_counties(tmp_path: Path) -> None:
    wz, yw = get_profile("wenzhou-2020"), get_profile("yiwu")
    mine = _city(tmp_path, "wenzhou-2027", "温州市", '["330300"]')
    # deployed: the copy; the bundled Wenzhou text (same city) does not judge 鹿城区 behind its back
    assert _governed(str(mine), ["330302", "330782"], [wz, yw, load_profile(mine)]) == {"330782": "yiwu"}


def test_two_other_texts_reaching_a_county_alike_are_refused_unless_one_is_the_operators(
    tmp_path: Path,
) -> None:
    wz, yw = get_profile("wenzhou-2020"), get_profile("yiwu")
    # an edited copy of yiwu in the operator's folder is preferred to the bundled one it copies
    copy = load_profile(_city(tmp_path, "yiwu-2027", "义乌市", '["330782"]', base="yiwu"))
    assert _governed("wenzhou-2020", ["330782"], [wz, yw, copy]) == {"330782": "yiwu-2027"}
    # two of the operator's own reaching it alike: which applies is not guessed
    other = load_profile(_city(tmp_path, "jinhua", "金华市", '["330782"]'))
    with pytest.raises(InputError) as info:
        _governed("wenzhou-2020", ["330782"], [wz, yw, copy, other])
    assert "330782" in str(info.value) and "jinhua" in str(info.value) and "yiwu-2027" in str(info.value)
    # nor two bundled ones (the bundled yiwu and a second text of the same reach, as if shipped)
    shipped = load_profile(_city(tmp_path, "jinhua", "金华市", '["330782"]'))
    shipped = dataclasses.replace(shipped, source=str(PROFILE_DIR / "jinhua.toml"))
    with pytest.raises(InputError, match="jinhua"):
        _governed("wenzhou-2020", ["330782"], [wz, yw, shipped])


@pytest.mark.parametrize("reach", ['["3307"]', '"330782"', '["33078x"]', "[330782]", '["000000"]'])
def test_a_jurisdiction_not_of_six_digit_codes_is_refused(tmp_path: Path, reach: str) -> None:
    with pytest.raises(InputError) as info:
        load_profile(_city(tmp_path, "bad", "某市", reach))
    assert "jurisdiction" in str(info.value) and "six-digit" in str(info.value)
