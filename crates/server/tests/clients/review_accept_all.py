"""Drives suit's review page in a real headless Chromium on a session whose
model is real, so the hunks are not known in advance: starts the session
from the form, waits for the proposed step, checks that nothing is written
yet, accepts every hunk with the keyboard, checks that the file changed,
undoes from the page and checks the bytes again.

Environment: SUIT_BASE_URL (the server's root), SUIT_REPO (the repository),
SUIT_FILE (its file the session may change), SUIT_TASK (the task),
SUIT_BEFORE (that file's bytes before), SUIT_SCREENSHOT (where to save a
screenshot of the page showing the step). Prints the session id and the
file's bytes after the decisions, as JSON, on its last lines.
"""

import json
import os

from selenium.webdriver.common.by import By

from review_browser import chromium, hunk_classes, read, start_session, until

BEFORE = os.environ["SUIT_BEFORE"]


def meta(driver):
    return driver.find_element(By.ID, "meta").text


def main():
    driver = chromium()
    try:
        start_session(driver, os.environ["SUIT_TASK"])
        # The model decodes on the test machine's cores: minutes at worst.
        until(driver, "the proposed step", lambda d: len(hunk_classes(d)) > 0 or "finished" in meta(d), 600)
        hunks = len(hunk_classes(driver))
        assert hunks > 0, "the session ended without proposing a step: " + meta(driver)
        assert read() == BEFORE, "nothing is written before the decisions"
        session = driver.execute_script("return current")
        driver.save_screenshot(os.environ["SUIT_SCREENSHOT"])

        # Keyboard only: a accepts the focused hunk, and the focus moves on.
        for n in range(hunks):
            driver.switch_to.active_element.send_keys("a")
            until(driver, f"hunk {n + 1} of {hunks} accepted",
                  lambda d: sum("accept" in c for c in hunk_classes(d)) == n + 1 or "finished" in meta(d), 10)
        until(driver, "the session finished", lambda d: "finished" in meta(d), 60)
        after = read()
        assert after != BEFORE, "the accepted step was written"

        # u undoes the step from the page.
        driver.find_element(By.TAG_NAME, "body").send_keys("u")
        until(driver, "the undo restored the file", lambda d: read() == BEFORE, 10)
    finally:
        driver.quit()
    print(json.dumps({"session": session, "after": after}))
    print("all review page checks passed")


if __name__ == "__main__":
    main()
