"""The operator page in a real headless Chromium (Debian's chromium + chromium-driver, through
selenium), against the sandbox: the real command recorded the state, the page serves it on
loopback, and the browser clicks the buttons a merchant would."""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from sync_job.service.config import Secret, load_config
from sync_job.service.serve import ServerThread, start_server
from sync_job.service.web import PageSettings, create_app
from sync_job.state.store import Store
from tests.e2e.conftest import SECRETS, SHOP, Sandbox, running_sandbox
from tests.factories import line, order

# One worker runs the whole module under pytest-xdist (`--dist loadgroup`): one Chromium and one
# recorded shared sandbox for it, instead of one per worker.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
if CHROMIUM is None or DRIVER is None:
    pytest.skip(
        "Chromium is not installed (the Makefile's `browser` target installs Debian's chromium "
        "and chromium-driver when run as root)",
        allow_module_level=True,
    )

from selenium import webdriver  # noqa: E402  (only once Chromium is known to be there)
from selenium.common.exceptions import NoAlertPresentException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.wait import WebDriverWait  # noqa: E402

TOKEN = "browser-admin-token-QX7Z8"
HOSTILE = "<script>alert(1)</script>"
UNKNOWN_SKU = "NO-SUCH-SKU"


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    """One headless Chromium for the module."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--hide-scrollbars", "--lang=en-US"):  # fmt: skip
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(str(DRIVER)))
    driver.set_page_load_timeout(30)
    driver.implicitly_wait(5)  # a busy machine may still be parsing the next page after a click
    try:
        yield driver
    finally:
        driver.quit()


def _put(box: Sandbox, name: str, sku: str) -> str:
    raw = order(
        "AWAITING_SHIPMENT", update_time=int(time.time()) - 20, lines=[line(sku, name=name)]
    )
    box.tiktok.put_order(SHOP, raw)
    return str(raw["id"])


@contextlib.contextmanager
def recorded_sandbox(root: Path) -> Iterator[tuple[Sandbox, dict[str, str]]]:
    """The sandbox after a few runs: one plain order, one hostile name, one unknown SKU."""
    root.mkdir()
    with running_sandbox(root) as sandbox:
        ids = {
            "plain": _put(sandbox, "Kaos Polos Hitam", "KAOS-HITAM-M"),
            "hostile": _put(sandbox, HOSTILE, "KAOS-HITAM-M"),
            "unknown": _put(sandbox, "Paket Misteri", UNKNOWN_SKU),
        }
        sandbox.run("once")  # one run records all three and pushes: two invoices, one refusal
        assert sandbox.quarantined_orders() == {ids["unknown"]}
        yield sandbox, ids


@pytest.fixture
def box(tmp_path: Path) -> Iterator[tuple[Sandbox, dict[str, str]]]:
    """A sandbox of its own, for a test whose buttons change the state."""
    with recorded_sandbox(tmp_path / "sandbox") as found:
        yield found


@pytest.fixture(scope="module")
def shared_box(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Sandbox, dict[str, str]]]:
    """One sandbox for the tests that only look (recording it takes a few real runs)."""
    with recorded_sandbox(tmp_path_factory.mktemp("shared") / "sandbox") as found:
        yield found


def serve(sandbox: Sandbox, token: str | None) -> ServerThread:
    """Serve the page for the sandbox's config (with or without an admin token) on loopback."""
    settings = PageSettings.from_config(load_config(sandbox.config_path, env=SECRETS))
    settings = replace(settings, admin_token=None if token is None else Secret(token))
    return start_server(create_app(settings), "127.0.0.1:0", name="page-under-test")


@contextlib.contextmanager
def served(sandbox: Sandbox, token: str | None) -> Iterator[str]:
    """The shop page's URL while it is served."""
    server = serve(sandbox, token)
    try:
        yield f"http://127.0.0.1:{server.port}/shop/{SHOP}"
    finally:
        server.stop()


@pytest.fixture
def page(box: tuple[Sandbox, dict[str, str]]) -> Iterator[str]:
    """The page of a sandbox of its own, served with an admin token."""
    with served(box[0], TOKEN) as url:
        yield url


@pytest.fixture
def shared_page(shared_box: tuple[Sandbox, dict[str, str]]) -> Iterator[str]:
    """The shared sandbox's page, served with an admin token."""
    with served(shared_box[0], TOKEN) as url:
        yield url


def section(browser: WebDriver, name: str) -> str:
    """The visible text of one section of the page."""
    return browser.find_element(By.ID, name).text


def click_and_wait(browser: WebDriver, css: str) -> None:
    """Click a button or link and wait until the browser has loaded the next page."""
    old = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.CSS_SELECTOR, css).click()
    WebDriverWait(browser, 20).until(expected_conditions.staleness_of(old))


def sign_in(browser: WebDriver, url: str) -> None:
    """Open the sign-in disclosure and give the admin token, as a person would."""
    browser.get(url)
    browser.find_element(By.CSS_SELECTOR, "details.signin summary").click()
    browser.find_element(By.NAME, "token").send_keys(TOKEN)
    click_and_wait(browser, "details.signin button")
    assert "Sign out" in browser.find_element(By.CSS_SELECTOR, "header").text


def test_page_shows_the_quarantined_order_and_its_item_at_1280_and_390(
    browser: WebDriver, shared_page: str, shared_box: tuple[Sandbox, dict[str, str]], tmp_path: Path
) -> None:
    """Health, the attention item and the quarantined order; screenshots at both widths."""
    page, box = shared_page, shared_box
    unknown = box[1]["unknown"]
    for width in (1280, 390):
        browser.set_window_size(width, 900)
        browser.get(page)
        assert unknown in section(browser, "attention") and "rejected" in section(
            browser, "attention"
        )
        assert unknown in section(browser, "quarantine") and UNKNOWN_SKU in section(
            browser, "quarantine"
        )
        assert "TT-" + box[1]["plain"] in section(browser, "invoices")
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(width, min(int(height) + 140, 6000))
        shot = tmp_path / f"operator-page-{width}.png"
        assert browser.save_screenshot(str(shot))
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000


def test_nothing_overflows_horizontally_at_390_px(browser: WebDriver, shared_page: str) -> None:
    """On a 390 px phone the page fits: no sideways scrolling, signed in or not."""
    page = shared_page
    browser.set_window_size(390, 844)
    browser.get(page)
    width = browser.execute_script("return window.innerWidth")
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 390 == width
    sign_in(browser, page)
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 390


def test_retry_with_the_token_puts_the_action_back_and_the_next_cycle_invoices_it(
    browser: WebDriver, page: str, box: tuple[Sandbox, dict[str, str]]
) -> None:
    """Fix the cause in DealPOS, press Retry: pending again, and the next run creates it."""
    sandbox, ids = box
    browser.set_window_size(1280, 900)
    sign_in(browser, page)
    sandbox.dealpos.set_variant(UNKNOWN_SKU, "Paket Misteri", Decimal("150000"))
    click_and_wait(browser, f'button[title="Retry order {ids["unknown"]}"]')
    assert "1 action(s) back in the queue" in browser.find_element(By.CSS_SELECTOR, ".flash").text
    store = Store.open(sandbox.state_path)
    try:
        assert [r.state for r in store.get_outbox_for_order(SHOP, ids["unknown"])] == ["pending"]
    finally:
        store.close()
    sandbox.run("once")  # the next cycle
    invoices = sandbox.dealpos.by_reference()[ids["unknown"]]
    assert [(i.status, i.fulfillment) for i in invoices] == [("Active", "Unsent")]
    browser.get(page)
    assert "No stopped orders" in section(browser, "quarantine")


def test_done_resolves_an_item(
    browser: WebDriver, page: str, box: tuple[Sandbox, dict[str, str]]
) -> None:
    """Done takes the item off the open list; it is still there behind "show resolved items"."""
    unknown = box[1]["unknown"]
    browser.set_window_size(1280, 900)
    sign_in(browser, page)
    click_and_wait(browser, "#attention button")
    assert "marked done" in browser.find_element(By.CSS_SELECTOR, ".flash").text
    assert "Nothing needs your attention" in section(browser, "attention")
    click_and_wait(browser, "#attention a[href*='a_resolved=1']")
    assert unknown in section(browser, "attention")
    assert box[0].quarantined_orders() == set()


def test_without_the_token_buttons_are_absent_and_a_forged_post_is_403(
    browser: WebDriver, shared_box: tuple[Sandbox, dict[str, str]], tmp_path: Path
) -> None:
    """Read-only page: no Retry/Done; a form posted from another page, and a bare POST, get 403."""
    sandbox, ids = shared_box
    server = serve(sandbox, None)
    url = f"http://127.0.0.1:{server.port}/shop/{SHOP}"
    try:
        browser.set_window_size(1280, 900)
        browser.get(url)
        buttons = [b.text for b in browser.find_elements(By.TAG_NAME, "button")]
        assert buttons == ["Filter"]
        assert "read-only" in browser.find_element(By.CSS_SELECTOR, "header").text
        forged = tmp_path / "forged.html"
        forged.write_text(
            f'<form method="post" action="{url}/retry"><input name="order_id" '
            f'value="{ids["unknown"]}"><button id="go">Win a prize</button></form>'
        )
        browser.get(forged.as_uri())
        click_and_wait(browser, "#go")
        assert "403" in browser.find_element(By.TAG_NAME, "h1").text
        bare = requests.post(f"{url}/done", data={"id": "1", "csrf": "guess"}, timeout=5)
        assert bare.status_code == 403
    finally:
        server.stop()
    assert sandbox.quarantined_orders() == {ids["unknown"]}


def test_a_script_in_a_product_name_renders_as_text(
    browser: WebDriver, shared_page: str, shared_box: tuple[Sandbox, dict[str, str]]
) -> None:
    """The hostile order's name shows literally; no script element, no alert dialog."""
    browser.set_window_size(1280, 900)
    browser.get(shared_page)
    row = browser.find_element(By.XPATH, f'//tr[td[contains(., "{shared_box[1]["hostile"]}")]]')
    assert HOSTILE in row.text
    assert browser.find_elements(By.TAG_NAME, "script") == []
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018  (reading it is what raises)


def test_the_dealpos_watch_page_fits_a_phone(
    browser: WebDriver, shared_box: tuple[Sandbox, dict[str, str]], tmp_path: Path
) -> None:
    """The simulator's invoice list at 390 px: no sideways scrolling, the invoices are there."""
    browser.set_window_size(390, 844)
    browser.get(shared_box[0].dealpos.url + "/")
    assert "TT-" + shared_box[1]["plain"] in browser.find_element(By.TAG_NAME, "main").text
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 390
    assert browser.save_screenshot(str(tmp_path / "dealpos-watch-390.png"))
