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
import sys
import time

from selenium.webdriver.common.by import By

from review_browser import BASE, chromium, hunk_classes, read, start_session, until

BEFORE = os.environ["SUIT_BEFORE"]
AFTER = os.environ["SUIT_AFTER"]


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
    driver = chromium()
    try:
        start_session(driver, "add subtracts and mul adds: fix both")
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
