"""Policy profiles: read, copied and changed by a user, refused with the key and the reason when wrong."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from geo.errors import InputError
from geo.settings import get_settings
from zoning.policy import OPTIONAL, PROFILE_DIR, SCHEMA, get_profile, list_profiles, load_profile


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
