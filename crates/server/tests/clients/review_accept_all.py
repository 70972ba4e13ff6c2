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
import shutil
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

BASE = os.environ["SUIT_BASE_URL"]
PATH = os.path.join(os.environ["SUIT_REPO"], os.environ["SUIT_FILE"])
BEFORE = os.environ["SUIT_BEFORE"]


def read():
    with open(PATH) as f:
        return f.read()


def until(driver, what, condition, seconds=20):
    print(f"review page: waiting for {what}", file=sys.stderr, flush=True)
    return WebDriverWait(driver, seconds, poll_frequency=0.1).until(
        lambda d: condition(d), message=what)


def hunk_classes(driver):
    # One script call: the page may redraw its hunks between two calls.
    return driver.execute_script(
        "return [...document.querySelectorAll('#hunks .hunk')].map(h => h.className)")


def meta(driver):
    return driver.find_element(By.ID, "meta").text


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
        form.find_element(By.NAME, "task").send_keys(os.environ["SUIT_TASK"])
        repo = form.find_element(By.NAME, "repo")
        repo.clear()
        repo.send_keys(os.environ["SUIT_REPO"])
        form.find_element(By.NAME, "files").send_keys(os.environ["SUIT_FILE"])
        steps = form.find_element(By.NAME, "max_steps")
        steps.clear()
        steps.send_keys("1")
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
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
