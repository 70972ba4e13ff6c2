"""Drives suit's review page in a real headless Chromium (Selenium and
chromedriver): starts a session from the form, rejects one hunk and accepts
the other with the keyboard, checks the bytes on disk, watches a second tab
follow, undoes from the page and checks the bytes again.

Environment: SUIT_BASE_URL (the server's root), SUIT_REPO (the repository),
SUIT_FILE (its file the session changes), SUIT_BEFORE / SUIT_AFTER (that
file's bytes before and after the decisions), SUIT_SCREENSHOT (where to
save a screenshot of the page showing the hunks).
"""

import os
import shutil
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

BASE = os.environ["SUIT_BASE_URL"]
PATH = os.path.join(os.environ["SUIT_REPO"], os.environ["SUIT_FILE"])
BEFORE = os.environ["SUIT_BEFORE"]
AFTER = os.environ["SUIT_AFTER"]


def read():
    with open(PATH) as f:
        return f.read()


def until(driver, what, condition, seconds=20):
    print(f"review page: waiting for {what}", file=sys.stderr, flush=True)
    return WebDriverWait(driver, seconds, poll_frequency=0.05).until(
        lambda d: condition(d), message=what)


def hunk_classes(driver):
    # One script call: the page may redraw its hunks between two calls.
    return driver.execute_script(
        "return [...document.querySelectorAll('#hunks .hunk')].map(h => h.className)")


def accessibility_problems(driver):
    """The serious and critical findings of axe-core (Deque's accessibility
    engine, from the `axe-core-python` package) on the page as it is."""
    import axe_core_python
    source = os.path.join(os.path.dirname(axe_core_python.__file__), "axe.min.js")
    with open(source) as f:
        driver.execute_script(f.read())
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document).then(done, e => done({error: String(e)}));")
    assert "error" not in result, result
    print(f"review page: axe-core checked {len(result['passes'])} rules, "
          f"{len(result['violations'])} with findings", file=sys.stderr, flush=True)
    return [f"{v['id']} ({v['impact']}): {v['help']} at "
            + ", ".join(n["target"][0] for n in v["nodes"][:3])
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def main():
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000"):
        options.add_argument(flag)
    service = Service(shutil.which("chromedriver") or "/usr/bin/chromedriver")
    driver = webdriver.Chrome(options=options, service=service)
    try:
        driver.get(BASE + "/")
        form = driver.find_element(By.ID, "new-session")
        form.find_element(By.NAME, "task").send_keys("add subtracts and mul adds: fix both")
        repo = form.find_element(By.NAME, "repo")
        repo.clear()
        repo.send_keys(os.environ["SUIT_REPO"])
        form.find_element(By.NAME, "files").send_keys(os.environ["SUIT_FILE"])
        steps = form.find_element(By.NAME, "max_steps")
        steps.clear()
        steps.send_keys("1")
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        until(driver, "two hunks shown", lambda d: len(hunk_classes(d)) == 2)
        keywords = driver.execute_script(
            "return [...document.querySelectorAll('#hunks .hljs-keyword')].map(k => k.textContent)")
        assert "return" in keywords and "def" in keywords, f"the Python is highlighted: {keywords}"
        serious = accessibility_problems(driver)
        assert not serious, "accessibility problems (axe-core): " + "; ".join(serious)
        assert read() == BEFORE, "nothing is written before the decisions"
        session = driver.execute_script("return current")

        # A second tab on the same session.
        first_tab = driver.current_window_handle
        driver.switch_to.new_window("tab")
        driver.get(BASE + "/?session=" + session)
        until(driver, "the second tab shows the hunks", lambda d: len(hunk_classes(d)) == 2)
        second_tab = driver.current_window_handle
        driver.switch_to.window(first_tab)

        # Keyboard only: the first hunk has the focus; r rejects it.
        focused = driver.switch_to.active_element
        assert "hunk" in (focused.get_attribute("class") or ""), "the first hunk has the focus"
        label = focused.get_attribute("aria-label")
        assert label and "hunk 1 of 2" in label and "undecided" in label, label
        focused.send_keys("r")
        until(driver, "the first hunk rejected", lambda d: "reject" in hunk_classes(d)[0])
        driver.save_screenshot(os.environ["SUIT_SCREENSHOT"])
        decided = time.monotonic()
        driver.switch_to.window(second_tab)
        until(driver, "the second tab sees the rejection", lambda d: "reject" in hunk_classes(d)[0], 5)
        followed = time.monotonic() - decided
        assert followed < 1.0, f"the second tab followed after {followed:.2f} s"
        driver.switch_to.window(first_tab)
        # The focus moved to the next undecided hunk; a accepts it.
        driver.switch_to.active_element.send_keys("a")
        until(driver, "the accepted hunk written", lambda d: read() == AFTER, 10)
        until(driver, "the session finished",
              lambda d: "finished" in d.find_element(By.ID, "meta").text, 10)
        timeline = driver.find_element(By.ID, "timeline").text
        assert "Decision: partial (hunks 1) by person." in timeline, timeline

        # u undoes the step from the page.
        driver.find_element(By.TAG_NAME, "body").send_keys("u")
        until(driver, "the undo restored the file", lambda d: read() == BEFORE, 10)
        status = driver.find_element(By.ID, "status").text
        assert status.startswith("Undone: checkpoint"), status
    finally:
        driver.quit()
    print("all review page checks passed")


if __name__ == "__main__":
    main()
