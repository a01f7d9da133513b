"""Signing in through a real OpenID Connect provider (issue 12, "a real identity server in the tests").

npm's ``oidc-provider`` (certified by the OpenID Foundation) runs on 127.0.0.1, installed by this test with npm
into a temporary folder (``tests/e2e/oidc/package.json``); an app of its own (``blockline app``) is configured
for it through Streamlit's ``[auth]`` secrets, on the e2e database. In Chromium: the app's sign-in button, the
provider's sign-in and consent pages, back in the app with the roles and counties of the ID token's claims and
the app's own session cookie; sign-out through the provider; an ID token that has expired.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import mapbox_vector_tile
import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from blockline.ui.serving import free_port, wait_healthy
from geo.tiles import tiles_covering
from tests.e2e.app_driver import settle
from tests.e2e.conftest import BLOCKLINE, VIEWPORT
from tests.e2e.test_session import session_cookie

HERE = Path(__file__).parent / "oidc"
ACCOUNTS = {
    "oidc-lc": {"roles": ["planner"], "counties": ["330302"]},
    "oidc-brief": {"roles": ["viewer"], "token_seconds": 20},
}
SIGN_IN = "通过统一身份认证登录"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _wait_for(url: str, proc: subprocess.Popen[bytes], log: Path, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the OpenID provider stopped:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - 127.0.0.1
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"the OpenID provider did not answer at {url}:\n{log.read_text(errors='replace')}")


@pytest.fixture(scope="module")
def provider_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``oidc-provider`` installed with npm (from the npm registry, the version package.json pins)."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        pytest.fail(
            "the OpenID Connect test runs npm's oidc-provider: install nodejs and npm (apt-get install npm)"
        )
    folder = tmp_path_factory.mktemp("oidc-provider")
    for name in ("package.json", "provider.mjs"):
        shutil.copy(HERE / name, folder / name)
    done = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"npm install failed:\n{done.stderr}"
    return folder


@pytest.fixture(scope="module")
def oidc_app(provider_dir: Path, e2e_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The provider on 127.0.0.1 and an app signing in through it; the app's address."""
    app_port, idp_port = free_port(), free_port()
    app_url, issuer = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{idp_port}"
    home = tmp_path_factory.mktemp("oidc-home")
    (home / ".streamlit").mkdir()
    (home / ".streamlit" / "secrets.toml").write_text(f"""[auth]
redirect_uri = "{app_url}/oauth2callback"
cookie_secret = "blockline-e2e-only-cookie-secret"
client_id = "blockline"
client_secret = "blockline-test-secret"
server_metadata_url = "{issuer}/.well-known/openid-configuration"
client_kwargs = {{ scope = "openid profile", prompt = "login" }}
""")
    idp_log, app_log = home / "provider.log", home / "app.log"
    env = {**os.environ, "OIDC_ACCOUNTS": json.dumps(ACCOUNTS)}
    with idp_log.open("wb") as out:
        idp = subprocess.Popen(
            ["node", "provider.mjs", str(idp_port), f"{app_url}/oauth2callback"],
            cwd=provider_dir,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    app = None
    try:
        _wait_for(f"{issuer}/.well-known/openid-configuration", idp, idp_log)
        env = {
            **os.environ,
            "BLOCKLINE_DATABASE_URL": e2e_url,
            "HOME": str(home),
        }  # ~/.streamlit/secrets.toml
        with app_log.open("wb") as out:
            app = subprocess.Popen(
                [str(BLOCKLINE), "app", "--port", str(app_port)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        wait_healthy(app_url, proc=app)
        yield app_url
    finally:
        if app is not None:
            _stop(app)
        _stop(idp)


@pytest.fixture
def oidc_page(browser, oidc_app: str) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", base_url=oidc_app)
    context.set_default_timeout(30_000)
    yield context.new_page()
    context.close()


def sign_in_at_the_provider(page: Page, name: str) -> None:
    """From the app's sign-in page through the provider's sign-in and consent pages, back into the app."""
    page.goto("/")
    page.get_by_role("button", name=SIGN_IN).click()
    page.locator('input[name="login"]').fill(name)
    page.locator('input[name="password"]').fill("any password")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()
    page.locator('[data-testid="stSidebar"]').wait_for()
    settle(page)


def other_county_tile(e2e_url: str) -> tuple[int, int, int, str]:
    """The z14 tile of a current parcel of a county other than 330302, and that county."""
    engine = sa.create_engine(e2e_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                sa.text("""
                SELECT county_code, ST_X(p) AS lon, ST_Y(p) AS lat
                FROM (SELECT county_code, ST_Transform(ST_PointOnSurface(geom), 4326) AS p FROM parcels
                      WHERE valid_to IS NULL AND county_code <> '330302' ORDER BY id LIMIT 1) s""")
            ).one()
    finally:
        engine.dispose()
    ((x, y),) = tiles_covering((row.lon, row.lat, row.lon, row.lat), 14)
    return 14, x, y, row.county_code


def test_roles_and_counties_come_from_the_providers_claims(oidc_page: Page, e2e_url: str) -> None:
    page = oidc_page
    sign_in_at_the_provider(page, "oidc-lc")
    expect(page.get_by_role("heading", level=1)).to_have_text("概览")
    expect(
        page.locator('[data-testid="stSidebar"]').get_by_text("已登录：oidc-lc（planner）")
    ).to_be_visible()
    cookie = session_cookie(page)
    assert cookie is not None and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    z, x, y, county = other_county_tile(e2e_url)
    answer = page.request.get(f"/tiles/parcels/{z}/{x}/{y}.pbf")
    assert answer.status == 200
    layers = mapbox_vector_tile.decode(answer.body())
    assert [
        f for f in layers.get("parcels", {}).get("features", []) if f["properties"]["county_code"] == county
    ] == []
    page.reload()  # the same session after a reload
    page.locator('[data-testid="stSidebar"]').wait_for()
    settle(page)
    expect(
        page.locator('[data-testid="stSidebar"]').get_by_text("已登录：oidc-lc（planner）")
    ).to_be_visible()

    # Sign-out: the app's session ends, then the provider's (its own page asks to confirm).
    page.locator('[data-testid="stSidebar"]').get_by_role("button", name="退出登录").click()
    page.get_by_role("button", name="Yes, sign me out").click()
    page.locator('[data-testid="stSidebar"]').wait_for()
    settle(page)
    expect(page.get_by_role("button", name=SIGN_IN)).to_be_visible()
    assert page.request.get(f"/tiles/parcels/{z}/{x}/{y}.pbf").status == 401


def test_an_expired_id_token_signs_out(oidc_page: Page) -> None:
    page = oidc_page
    sign_in_at_the_provider(page, "oidc-brief")  # its ID token lives 20 s
    expect(
        page.locator('[data-testid="stSidebar"]').get_by_text("已登录：oidc-brief（viewer）")
    ).to_be_visible()
    signed_in = time.monotonic()
    assert session_cookie(page) is not None
    assert page.request.get("/tiles/all/9/427/214.pbf").status == 200
    page.wait_for_timeout(max(0.0, 22 - (time.monotonic() - signed_in)) * 1000)
    page.reload()
    page.locator('[data-testid="stSidebar"]').wait_for()
    settle(page)
    expect(page.get_by_role("button", name=SIGN_IN)).to_be_visible()
    assert page.request.get("/tiles/all/9/427/214.pbf").status == 401
