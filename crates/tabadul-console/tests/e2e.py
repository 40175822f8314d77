"""The console end to end in a real headless Chromium (Debian's), driven by Playwright.

Run by scripts/console-test against `tabadul serve --demo`: a Czech border officer checks an
Iraqi passport whose holder Iraq wants, in Arabic script; the hit is confirmed; Iraq's analyst
finds the notification in the inbox and acknowledges it. Along the way: the answer shows the
document status first and the person hit colour-coded with its explanation and receipt; no
traveller data ever goes into a URL; the console switches to Arabic, right to left; an expired
session returns to the sign-in page; the security headers are sent. With --screenshots DIR it
saves the main screens in English and Arabic.

Usage: e2e.py BASE_URL [--screenshots DIR]
"""

import re
import sys
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

PASSWORD = "tabadul-demo-2026"
MRZ = "P<IRQALSHAMMARI<<ALI<HASSAN<<<<<<<<<<<<<<<<<\nP123456712IRQ8803159M3001019<<<<<<<<<<<<<<06"
# What must never appear in a URL the console requests or shows.
PERSONAL = ["ALSHAMMARI", "SHAMMARI", "P12345671", "1988", "880315", "ALI"]
MANIFEST = Path(__file__).resolve().parents[2] / "tabadul-edifact" / "tests" / "data" / "iraqi-airways-bgw-prg.edi"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-quic",
]


def main():
    base = sys.argv[1].rstrip("/")
    shots = None
    if "--screenshots" in sys.argv:
        shots = Path(sys.argv[sys.argv.index("--screenshots") + 1])
        shots.mkdir(parents=True, exist_ok=True)

    def shot(page, name):
        if shots:
            page.screenshot(path=str(shots / f"{name}.png"), full_page=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
        page = context.new_page()
        try:
            steps(page, base, shot)
        except Exception:
            # What the page showed, to see why.
            print(page.locator("main").inner_text()[:4000], file=sys.stderr)
            page.screenshot(path=str(Path(__file__).parent.parent.parent.parent / "target" / "e2e-failure.png"), full_page=True)
            raise
        finally:
            browser.close()


def steps(page, base, shot):
    urls = []
    page.on("request", lambda request: urls.append(request.url))
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)

    # The console is the root of the server, with its security headers.
    response = page.goto(f"{base}/")
    assert page.url.endswith("/console/"), page.url
    headers = response.headers
    assert "script-src 'self'" in headers["content-security-policy"], headers
    assert headers["x-frame-options"] == "DENY" and headers["referrer-policy"] == "no-referrer", headers
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    shot(page, "login-en")

    # A wrong password is a clear error, not a crash.
    sign_in(page, "officer@cz-mv", "not the password")
    expect(page.get_by_role("alert")).to_contain_text("Error")

    # The Czech officer checks the Iraqi passport: the stolen document first, then the
    # wanted man in Arabic script, marked armed, to arrest.
    sign_in(page, "officer@cz-mv", PASSWORD)
    expect(page.get_by_role("link", name="Border check")).to_have_attribute("aria-current", "page")
    page.get_by_label("Border crossing point").fill("PRG-AIRPORT")
    # A passport reader types the zone: the check runs when the zone is complete.
    page.get_by_label(re.compile("Machine-readable zone")).fill(MRZ)
    result = page.locator("section.result")
    expect(result.locator("article.hit").first).to_be_visible()
    headings = result.locator("h2").all_inner_texts()
    assert headings[0].startswith("Travel document") and headings[1].startswith("Person hits"), headings
    person = result.locator("article.hit.action-arrest")
    expect(person).to_have_count(1)
    wanted_alert_id = person.get_attribute("data-alert")
    expect(person.locator(".badge")).to_have_text("Arrest")
    expect(person).to_contain_text("علي حسن الشمري")
    expect(person).to_contain_text("Armed")
    expect(person.locator("details li").first).to_contain_text("≈")
    expect(result.locator("article.hit.action-seize")).to_contain_text("Stolen from its holder")
    receipt = result.locator(".receipt-id").inner_text()
    assert re.fullmatch(r"[0-9a-f-]{36}", receipt), receipt
    shot(page, "check-en")

    person.get_by_role("button", name="Confirm: it is this person").click()
    person.get_by_label("What was done").fill("detained at gate B4")
    person.get_by_role("button", name="Save").click()
    expect(person).to_contain_text("The owner has been notified")

    # The same screen in Arabic, right to left, names still in their own script.
    page.get_by_role("button", name="Switch the console to Arabic").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("link", name="التدقيق الحدودي")).to_be_visible()
    page.get_by_label("المنفذ الحدودي").fill("PRG-AIRPORT")
    page.get_by_label(re.compile("المنطقة المقروءة آلياً")).fill(MRZ)
    expect(page.locator("article.hit.action-arrest .badge")).to_have_text("القبض")
    expect(page.locator("article.hit.action-arrest .instruction")).to_contain_text("وزارة الداخلية العراقية")
    shot(page, "check-ar")
    page.get_by_role("button", name="تبديل لغة الواجهة إلى الإنجليزية").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    # Iraq's analyst finds the confirmation in the inbox and acknowledges it.
    sign_in(page, "analyst@iq-moi", PASSWORD)
    page.get_by_role("link", name="Hit inbox").click()
    note = page.locator("article.notification", has_text="detained at gate B4")
    expect(note).to_have_count(1)
    expect(note).to_contain_text("PRG-AIRPORT")
    shot(page, "inbox-en")
    note.get_by_role("button", name="Acknowledge").click()
    expect(note).to_contain_text("Acknowledged")

    # The dashboard, the alerts (in Arabic) and a new alert made from the form.
    page.get_by_role("link", name="Dashboard").click()
    expect(page.locator(".tile").first).to_be_visible()
    shot(page, "dashboard-en")
    page.get_by_role("link", name="Alerts").click()
    expect(page.locator("table.list tbody tr").first).to_be_visible()
    page.get_by_role("button", name="New alert").click()
    page.get_by_label("Category", exact=True).last.select_option("suspected-smuggler")
    page.get_by_label(re.compile("Names")).fill("كريم جبار الساعدي\nKarim Jabbar al-Saadi")
    page.get_by_label(re.compile("Birth dates")).fill("1979-04-02")
    page.get_by_label(re.compile("Nationalities")).fill("iq")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Suspected smuggler")).to_be_visible()
    expect(page.locator("main")).to_contain_text("كريم جبار الساعدي")
    new_id = page.locator("main dl code").first.inner_text()
    # Link it to Iraq's wanted man, edit it, then delete it.
    page.get_by_label("Link to alert (its id)").fill(wanted_alert_id)
    page.get_by_label("Kind of link").select_option("same-network")
    page.get_by_role("button", name="Add link").click()
    expect(page.locator("main section.card ul")).to_contain_text(wanted_alert_id)
    page.get_by_label("Owner").select_option("IQ-MOI")
    page.get_by_label("Category", exact=True).first.select_option("suspected-smuggler")
    page.get_by_role("button", name="Search").click()
    row = page.locator("table.list tbody tr", has_text="كريم جبار الساعدي")
    row.get_by_role("button", name="Edit").click()
    page.get_by_label("Remarks", exact=True).fill("seen at Zakho crossing, 2026-11")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("main")).to_contain_text("seen at Zakho crossing")
    page.get_by_role("button", name="Search").click()
    row = page.locator("table.list tbody tr", has_text="كريم جبار الساعدي")
    expect(row.locator("td").nth(4)).to_have_text("2")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Delete").click()
    expect(page.locator(".status.success")).to_contain_text("Deleted")
    assert new_id
    page.get_by_role("button", name="Switch the console to Arabic").click()
    page.get_by_role("link", name="التنبيهات").click()
    expect(page.locator("table.list tbody tr").first).to_be_visible()
    shot(page, "alerts-ar")
    page.get_by_role("link", name="لوحة المعلومات").click()
    expect(page.locator(".tile").first).to_be_visible()
    shot(page, "dashboard-ar")
    page.get_by_role("button", name="تبديل لغة الواجهة إلى الإنجليزية").click()
    page.get_by_role("button", name="Sign out").click()

    # The analyst screens a passenger manifest (a PAXLST of the project's test data).
    sign_in(page, "analyst@cz-mv", PASSWORD)
    page.get_by_role("link", name="Manifests").click()
    page.get_by_label("PAXLST file (UN/EDIFACT)").set_input_files(str(MANIFEST))
    page.get_by_role("button", name="Screen").click()
    expect(page.locator("main section.card h2").first).to_contain_text("Flight")
    # What the carrier is told of its three travellers, as counts of each directive.
    expect(page.locator(".carrier-told").first).to_have_text(
        re.compile(r"^Carrier told: (board|no board|contact the government) [1-3]( · .+ [12])*$")
    )
    shot(page, "manifest-en")
    page.get_by_role("button", name="Sign out").click()

    # The supervisor sees the agreements, proposes one to Iraq (which shares nothing until Iraq
    # consents), and adds an officer, then disables the account.
    sign_in(page, "supervisor@cz-mv", PASSWORD)
    page.get_by_role("link", name="Agreements").click()
    expect(page.locator("table.list")).to_contain_text("Iraq-Czech memorandum")
    page.get_by_label("Title", exact=True).fill("Czech-Iraqi exchange on missing persons")
    page.get_by_label(re.compile("Parties")).fill("CZ-MV, IQ-MOI")
    page.get_by_label("Legal reference").fill("Draft MoU 2026/11")
    page.get_by_label(re.compile("What is shared")).fill("missing-person=full")
    page.get_by_role("button", name="Save").click()
    proposal = page.locator("table.list tr", has_text="missing persons")
    expect(proposal).to_contain_text("Awaiting the consent of: IQ-MOI")
    page.get_by_role("link", name="Users").click()
    page.get_by_label("Login name").fill("gate4@cz-mv")
    page.get_by_label("Full name").fill("Jana Dvořáková")
    page.get_by_label(re.compile("Password")).fill("a long enough passphrase")
    page.get_by_role("button", name="Save").click()
    row = page.locator("table.list tr", has_text="gate4@cz-mv")
    expect(row).to_contain_text("Border officer")
    row.get_by_role("button", name="Disable").click()
    expect(page.locator("table.list tr", has_text="gate4@cz-mv")).to_contain_text("Disabled")
    shot(page, "users-en")
    page.get_by_role("button", name="Sign out").click()

    # The auditor searches the log and verifies the chain.
    sign_in(page, "auditor@cz-mv", PASSWORD)
    page.get_by_role("link", name="Audit log").click()
    page.get_by_label(re.compile("Operation")).fill("hit")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("table.audit code", has_text="hit.confirm").first).to_be_visible()
    page.get_by_role("button", name="Verify the chain").click()
    expect(page.locator(".status.success")).to_contain_text("intact")
    shot(page, "audit-en")

    # A session that has expired goes back to the sign-in page, saying why.
    page.evaluate(
        """() => {
            const s = JSON.parse(sessionStorage.getItem('tabadul.session'));
            s.expires_at = '2000-01-01T00:00:00Z';
            sessionStorage.setItem('tabadul.session', JSON.stringify(s));
        }"""
    )
    page.reload()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.locator(".status.warning")).to_contain_text("session has ended")

    leaked = [u for u in urls if any(p in u.upper() for p in PERSONAL)]
    assert not leaked, f"traveller data in a URL: {leaked}"
    # The one failed request expected: the wrong password, answered 401.
    errors = [e for e in errors if "status of 401" not in e]
    assert not errors, f"errors in the page: {errors}"
    print(f"console end to end: ok ({len(urls)} requests, none with traveller data)")


def sign_in(page, user, password):
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


if __name__ == "__main__":
    main()
