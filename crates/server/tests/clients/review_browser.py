"""What the review page's browser tests share: a headless Chromium driven by
Selenium through Debian's chromedriver, waiting with a trace on stderr, the
hunks as drawn, the form that starts a session, and the file on disk.

Environment: SUIT_BASE_URL (the server's root), SUIT_REPO (the repository),
SUIT_FILE (its file the session may change).
"""

import os
import shutil
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

BASE = os.environ["SUIT_BASE_URL"]
PATH = os.path.join(os.environ["SUIT_REPO"], os.environ["SUIT_FILE"])


def read():
    """The session's file as it is on disk."""
    with open(PATH) as f:
        return f.read()


def chromium():
    """A headless Chromium."""
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000"):
        options.add_argument(flag)
    service = Service(shutil.which("chromedriver") or "/usr/bin/chromedriver")
    return webdriver.Chrome(options=options, service=service)


def until(driver, what, condition, seconds=20):
    """Waits for `condition`, saying on stderr what it waits for."""
    print(f"review page: waiting for {what}", file=sys.stderr, flush=True)
    return WebDriverWait(driver, seconds, poll_frequency=0.05).until(
        lambda d: condition(d), message=what)


def hunk_classes(driver):
    """The class names of the hunks drawn, in order."""
    # One script call: the page may redraw its hunks between two calls.
    return driver.execute_script(
        "return [...document.querySelectorAll('#hunks .hunk')].map(h => h.className)")


def start_session(driver, task):
    """Opens the page and starts a one-step session on the file from its form."""
    driver.get(BASE + "/")
    form = driver.find_element(By.ID, "new-session")
    form.find_element(By.NAME, "task").send_keys(task)
    repo = form.find_element(By.NAME, "repo")
    repo.clear()
    repo.send_keys(os.environ["SUIT_REPO"])
    form.find_element(By.NAME, "files").send_keys(os.environ["SUIT_FILE"])
    steps = form.find_element(By.NAME, "max_steps")
    steps.clear()
    steps.send_keys("1")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
