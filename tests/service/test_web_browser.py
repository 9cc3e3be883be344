"""The web application in a real browser (issue #14): headless Chromium (Debian's chromium and
chromium-driver) driven by Selenium against the service on loopback. An enterprise registers and
its officer approves it; it signs in and submits a case with a file; the department sees it appear
without reloading, accepts and resolves it; the enterprise confirms, not satisfied, and the case
reopens one tier up; the officer triages a case no rule could place; the secretary opens the
agenda, downloads it and records the minutes; the leader's figures change; another enterprise
cannot open the case or its file by address; the admin tries a text against the rules.
Each page is checked for console errors and unlabelled form fields, and the main pages with
axe-core (serious and critical rules); screenshots of the main pages go to docs/screenshots/."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from processes import free_port
from service.accounts import service as accounts
from service.app import create_app

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "漯河 validate 晨光 Orchard-42"


def _driver():
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium and its driver are required in CI (.ci/run installs chromium and "
                        "chromium-driver)", pytrace=False)
        pytest.skip("apt-get install -y chromium chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1366,768",
                "--proxy-server=http://127.0.0.1:9"):  # nothing beyond this machine, as on an intranet
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver), options=options)


@pytest.fixture
def site(world, tmp_path, monkeypatch):
    """The service on a loopback port, with accounts for the enterprise, the other enterprise,
    the land bureau, Yuanhui's officer, an admin, a leader and the Yuanhui county meeting's
secretary; files kept in tmp_path."""
    from dataclasses import replace

    monkeypatch.setattr(world.rt, "settings", replace(world.rt.settings, attachments_dir=str(tmp_path / "files")))
    with world.rt.session() as s:
        for name, role, scope in (("ent-b", "enterprise", {"enterprise_id": world.enterprises["临颍测试物流有限公司"]}),
                                  ("land", "department", {"department": "natural-resources"}),
                                  ("wang", "officer", {"officer_id": "officer-yuanhui-1"}),
                                  ("boss", "admin", {}), ("chief", "leader", {}),
                                  ("sec", "secretary", {"series": "county-yuanhui"})):
            accounts.create(s, world.rt.clock(), name, PASSWORD, role, **scope)
        s.commit()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(world.rt), host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    browser = _driver()
    try:
        yield world, f"http://127.0.0.1:{port}", browser
    finally:
        browser.quit()
        server.should_exit = True
        thread.join(5)


def check_page(browser) -> None:
    """No console errors (a refused inline script, a missing file…); every form field labelled."""
    from selenium.webdriver.common.by import By

    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], errors
    for field in browser.find_elements(By.CSS_SELECTOR, "input:not([type=hidden]), textarea, select"):
        fid = field.get_attribute("id")
        assert fid and browser.find_elements(By.CSS_SELECTOR, f"label[for='{fid}']"), field.get_attribute("name")


def click(browser, css: str) -> None:
    """Click, and wait for the next page (a click does not wait for the navigation it starts)."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    old = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.CSS_SELECTOR, css).click()

    def gone(_) -> bool:  # stale, or (mid-swap) "does not belong to the document": the old page is gone
        try:
            old.is_enabled()
            return False
        except WebDriverException:
            return True

    WebDriverWait(browser, 10).until(gone)
    WebDriverWait(browser, 10).until(lambda b: b.execute_script("return document.readyState") == "complete")


def accessible(browser) -> None:
    """axe-core on the page as it stands: no violation of a serious or critical rule."""
    from axe_core_python.selenium import Axe

    results = Axe().run(browser, options={"resultTypes": ["violations"]})
    bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in results["violations"]
           if v["impact"] in ("serious", "critical")]
    assert bad == [], (browser.current_url, bad)


def sign_in(browser, base: str, username: str, lands: str = "/app/cases") -> None:
    from selenium.webdriver.common.by import By

    browser.delete_all_cookies()
    browser.get(f"{base}/login")
    check_page(browser)
    browser.find_element(By.ID, "username").send_keys(username)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    click(browser, "form[action='/login'] button")
    assert browser.current_url == f"{base}{lands}"


def press(browser, action: str) -> None:
    click(browser, f"form[action$='/{action}'] button[type=submit]")


def download(browser, url: str) -> bytes:
    """A download, fetched with the browser's own session cookie (headless Chromium keeps files
    out of sight)."""
    import httpx

    cookies = {c["name"]: c["value"] for c in browser.get_cookies()}
    r = httpx.get(url, cookies=cookies)
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"], r.status_code
    return r.content


def received(browser) -> int:
    from selenium.webdriver.common.by import By

    return int(browser.find_element(By.CSS_SELECTOR, "ul.headline li:first-child strong").text)


def test_the_loop_closes_in_the_browser_for_every_role(site):
    from datetime import datetime, timedelta

    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait
    from stdnum.cn import uscc

    world, base, browser = site
    SHOTS.mkdir(parents=True, exist_ok=True)
    sign_in(browser, base, "chief", lands="/app/dashboard")  # the leader's figures, before
    before = received(browser)

    # an enterprise registers itself; its officer approves it
    browser.delete_all_cookies()
    browser.get(f"{base}/login")
    browser.save_screenshot(str(SHOTS / "sign-in.png"))
    accessible(browser)
    click(browser, "a[href='/register']")
    check_page(browser)
    accessible(browser)
    body = "91411102MA45XK7Q3"
    for field, value in (("credit_code", body + uscc.calc_check_digit(body)), ("name", "漯河市新绿食品有限公司"),
                         ("contact", "刘芳"), ("phone", "13903951234"), ("username", "xinlv"), ("password", PASSWORD)):
        browser.find_element(By.ID, field).send_keys(value)
    Select(browser.find_element(By.ID, "district")).select_by_value("yuanhui")
    click(browser, "form[action='/register'] button")
    assert "注册申请已提交" in browser.page_source and "王建国" in browser.page_source
    sign_in(browser, base, "wang")
    click(browser, "nav a[href='/app/registrations']")
    check_page(browser)
    accessible(browser)
    browser.save_screenshot(str(SHOTS / "officer-registrations.png"))
    click(browser, "form[action$='/approve'] button")
    assert "企业账号已开通" in browser.page_source

    sign_in(browser, base, "xinlv")
    click(browser, "nav a[href='/app/cases/new']")
    check_page(browser)
    accessible(browser)
    browser.find_element(By.ID, "title").send_keys("厂区土地证办不下来")
    browser.find_element(By.ID, "description").send_keys("出让金已于今年三月缴清，土地证三个月未办结，影响项目融资。")
    browser.find_element(By.ID, "amount").send_keys("3000000")
    pdf = SHOTS.parent.parent / "tests" / "data" / "出让金缴款凭证.pdf"
    browser.find_element(By.ID, "file").send_keys(str(pdf))
    browser.save_screenshot(str(SHOTS / "enterprise-new-case.png"))
    click(browser, "form[action='/app/cases/new'] button")
    assert "诉求已提交" in browser.page_source
    case_url = browser.current_url.split("?")[0]
    assert "第1级" in browser.find_element(By.CSS_SELECTOR, "ol.ladder li.current").text
    file_url = browser.find_element(By.PARTIAL_LINK_TEXT, "出让金缴款凭证.pdf").get_attribute("href")
    check_page(browser)
    accessible(browser)

    sign_in(browser, base, "land")
    assert "厂区土地证办不下来" in browser.page_source
    accessible(browser)
    # live: a case routed to the land bureau now shows in its open list, without a reload
    page = browser.find_element(By.TAG_NAME, "html")
    world.submit(title="项目用地报批进度缓慢", description="建设用地批复至今未下达，影响开工")
    # the page asks every second (live.js); the wait allows for a busy CI machine, and no timing is
    # asserted here (a 2.5 s bound once failed at 3.1 s with the browser, PostgreSQL and the
    # suite sharing two cores)
    WebDriverWait(browser, 10, poll_frequency=0.1).until(lambda b: "项目用地报批进度缓慢" in b.page_source)
    assert page.is_displayed()  # the same page: nothing reloaded it
    browser.save_screenshot(str(SHOTS / "department-queue.png"))
    click(browser, "tbody a")
    press(browser, "accept")
    assert "办理中" in browser.page_source
    browser.find_element(By.ID, "resolve-resolution").send_keys("已协调不动产登记中心，土地证已发放。")
    press(browser, "resolve")
    assert "已办结待确认" in browser.page_source
    check_page(browser)
    accessible(browser)

    sign_in(browser, base, "xinlv")
    browser.get(case_url)
    browser.save_screenshot(str(SHOTS / "enterprise-case.png"))
    Select(browser.find_element(By.ID, "confirm-satisfied")).select_by_value("0")
    Select(browser.find_element(By.ID, "confirm-rating")).select_by_value("2")
    press(browser, "confirm")
    assert "第2级" in browser.find_element(By.CSS_SELECTOR, "ol.ladder li.current").text  # reopened one tier up
    assert "重办" in browser.page_source
    check_page(browser)
    case_id = int(case_url.rsplit("/", 1)[1])
    assert world.case(case_id)["status"] == "open" and world.case(case_id)["tier"] == 2

    # the officer places a case no rule could: the triage queue, the rules' word on it, the picker
    vague = world.submit(title="想请政府帮帮忙", description="情况比较复杂，希望有人联系我们当面说明。")
    assert world.case(vague["id"])["lead_department"] is None
    sign_in(browser, base, "wang")
    browser.get(f"{base}/app/cases?view=triage")
    check_page(browser)
    accessible(browser)
    browser.save_screenshot(str(SHOTS / "officer-triage.png"))
    click(browser, f"a[href='/app/cases/{vague['id']}']")
    Select(browser.find_element(By.ID, "reassign-lead_department")).select_by_value("commerce")
    press(browser, "reassign")
    assert world.case(vague["id"])["lead_department"] == "commerce"
    check_page(browser)

    # reopened at tier 2, the case is on the Yuanhui county meeting's next agenda
    sign_in(browser, base, "sec")
    click(browser, "nav a[href='/app/meetings']")
    check_page(browser)
    accessible(browser)
    click(browser, "tbody a")
    assert "厂区土地证办不下来" in browser.page_source and "下载议程（Word）" in browser.page_source
    check_page(browser)
    accessible(browser)
    browser.save_screenshot(str(SHOTS / "secretary-agenda.png"))
    word = browser.find_element(By.PARTIAL_LINK_TEXT, "下载议程（Word）").get_attribute("href")
    assert download(browser, word)[:2] == b"PK"
    sitting_url = browser.current_url
    closes = world.client.get(f"/v1/meetings/{world.case(case_id)['sitting_id']}", headers=world.h("admin"))
    world.clock.set(datetime.fromisoformat(closes.json()["agenda_closes_at"]) + timedelta(minutes=5))
    sign_in(browser, base, "sec")
    browser.get(sitting_url)
    Select(browser.find_element(By.ID, f"decision-{case_id}")).select_by_value("resolved")
    browser.find_element(By.ID, f"note-{case_id}").send_keys("土地证已补发，会议确认办结")
    browser.find_element(By.ID, "attendees").send_keys("区长、区自然资源局")
    check_page(browser)
    accessible(browser)
    click(browser, "form[action$='/minutes'] button[type=submit]")
    assert "会议纪要已记录" in browser.page_source and "下载会议纪要（Word）" in browser.page_source
    check_page(browser)

    sign_in(browser, base, "ent-b")
    browser.get(case_url)
    assert "无权查看" in browser.page_source and "厂区土地证办不下来" not in browser.page_source
    browser.get(file_url)
    assert "无权查看" in browser.page_source and "%PDF" not in browser.page_source
    logged = browser.get_log("browser")  # the refusals, and nothing else
    assert [e["message"].split(" - ")[0] for e in logged] == [case_url, file_url], logged

    # the leader's dashboard: the three new cases counted; a bar leads to the cases behind it
    sign_in(browser, base, "chief", lands="/app/dashboard")
    check_page(browser)
    accessible(browser)
    assert received(browser) == before + 3
    browser.save_screenshot(str(SHOTS / "dashboard.png"))
    click(browser, "section[aria-label='办结率排名'] svg a")
    assert "department=natural-resources" in browser.current_url or "department=commerce" in browser.current_url
    check_page(browser)

    # the admin tries a text against the rules, and reads the explanation as a person would
    sign_in(browser, base, "boss")
    click(browser, "nav a[href='/app/admin']")
    click(browser, "nav.subnav a[href='/app/admin/rules']")
    browser.find_element(By.ID, "title").send_keys("出口退税迟迟没有到账")
    click(browser, "form[action='/app/admin/rules/try'] button")
    assert "结果：" in browser.find_element(By.ID, "tried").text
    check_page(browser)
    accessible(browser)
    browser.save_screenshot(str(SHOTS / "admin-rules.png"))
    for path in ("accounts", "keys", "enterprises", "directory", "dead-letters"):
        browser.get(f"{base}/app/admin/{path}")
        check_page(browser)
        accessible(browser)
