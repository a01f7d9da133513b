#!/usr/bin/env bash
# blockline on a fresh machine, in one command each (safe to run again):
#   ./dev.sh app   install what is missing, load the demo city if the database is empty, run the app
#   ./dev.sh test  install what is missing (also chromium and CJK fonts for the browser tests), run every test
#   ./dev.sh setup install what is missing, nothing else
set -euo pipefail
cd "$(dirname "$0")"

say() { printf '\033[1;34m[blockline]\033[0m %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@";
  elif command -v sudo >/dev/null 2>&1; then sudo "$@";
  else say "需要 root 权限安装系统软件包 / need root to install: $*"; exit 1; fi
}

have_postgis() {
  local bin
  for bin in /usr/lib/postgresql/*/bin/postgres; do
    [ -x "$bin" ] || continue
    local ver; ver=$(basename "$(dirname "$(dirname "$bin")")")
    [ -f "/usr/share/postgresql/$ver/extension/postgis.control" ] && return 0
  done
  return 1
}

have_deb() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }

# What the end-to-end tests need: a headless browser (driven by Playwright through its executable path, so
# Playwright never downloads one) and fonts for the Chinese on the pages and in their screenshots.
have_chromium() { [ -x "${CHROMIUM:-/usr/bin/chromium}" ]; }

python_ok() { "$1" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; }

system_packages() {  # system_packages [e2e]
  local pkgs=()
  have_postgis || pkgs+=(postgresql-15 postgresql-15-postgis-3)
  # The CJK font the documents and their maps print Chinese in (blockline report), for the app as well.
  have_deb fonts-noto-cjk || pkgs+=(fonts-noto-cjk)
  if [ "${1:-}" = e2e ]; then
    have_chromium || pkgs+=(chromium)
    # pdftotext and pdftoppm: the tests read the PDF documents back and render their pages
    command -v pdftoppm >/dev/null 2>&1 || pkgs+=(poppler-utils)
    # QGIS itself opens the project of `blockline qgis` in tests/test_cli_qgis.py (174 packages, ~3 min)
    have_deb python3-qgis || pkgs+=(python3-qgis)
    # npm: the OIDC test installs the oidc-provider package and runs it on 127.0.0.1
    command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)
  fi
  PY=""
  for cand in python3.11 python3; do
    if command -v "$cand" >/dev/null 2>&1 && python_ok "$cand"; then PY=$cand; break; fi
  done
  [ -n "$PY" ] || pkgs+=(python3 python3-venv)
  if [ ${#pkgs[@]} -gt 0 ]; then
    say "安装系统软件包 / installing system packages: ${pkgs[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
  fi
  if [ -z "$PY" ]; then
    for cand in python3.11 python3; do
      if command -v "$cand" >/dev/null 2>&1 && python_ok "$cand"; then PY=$cand; break; fi
    done
  fi
  [ -n "$PY" ] || { say "需要 Python 3.11 或更新 / Python 3.11+ is needed"; exit 1; }
}

python_env() {
  if [ ! -x .venv/bin/python ]; then
    say "创建虚拟环境 / creating .venv with $PY"
    "$PY" -m venv .venv
  fi
  # Reinstall only when the project's dependencies changed since the last install.
  local stamp=.venv/.blockline-installed
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    say "安装 Python 依赖 / installing the project and its dependencies"
    .venv/bin/python -m pip install -q --disable-pip-version-check -U pip
    .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
    touch "$stamp"
  fi
}

cmd=${1:-help}
[ $# -gt 0 ] && shift
case "$cmd" in
  setup)
    system_packages; python_env ;;
  app)
    system_packages; python_env
    .venv/bin/blockline db up
    if [ "$(.venv/bin/blockline db status --format json | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin).get("counts",{}).get("parcels",0))')" = 0 ]; then
      say "数据库为空，导入示例城市 / empty database: loading the demo city"
      .venv/bin/blockline demo
    fi
    exec .venv/bin/blockline app "$@" ;;
  test)
    system_packages e2e; python_env
    .venv/bin/ruff check .
    .venv/bin/ruff format --check .
    .venv/bin/mypy geo zoning blockline
    # two workers: the browser tests in turn on one (tests/conftest.py groups them), everything else shared
    exec .venv/bin/python -m pytest -n "${BLOCKLINE_TEST_WORKERS:-2}" --dist loadgroup "$@" ;;
  *)
    sed -n '2,6p' "$0"; exit 2 ;;
esac
