"""Browser tests: Debian's Chromium driven by Playwright (no browser download).

They run on SQLite only (the PostgreSQL behaviour of the same pages is covered by the web
tests). Without Chromium they are skipped — except when SIPAS_TEST_REQUIRE_BROWSER=1 (CI)."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = os.environ.get("SIPAS_TEST_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(config, items):
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return "sqlite:///" + str(tmp_path_factory.mktemp("browser-sqlite") / "test.db")


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("SIPAS_TEST_REQUIRE_BROWSER") in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def base_url(app, live_server):
    host, port = live_server
    url = f"http://{host}:{port}"
    app.config["PUBLIC_BASE_URL"] = url
    yield url
    app.config["PUBLIC_BASE_URL"] = None


@pytest.fixture(params=[True, False], ids=["js", "no-js"])
def phone(browser, request):
    """A phone-sized page (360×740, touch), with JavaScript on and off."""
    context = browser.new_context(
        viewport={"width": 360, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        java_script_enabled=request.param,
        locale="vi-VN",
    )
    page = context.new_page()
    yield page
    context.close()
