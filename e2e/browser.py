"""A person at Open WebUI, played by headless Chromium through Selenium (run in .venv-gateway).

    .venv-gateway/bin/python -m e2e.browser '{"url": ..., "email": ..., "password": ..., "models": [...],
                                             "prompt": ..., "screenshot": ..., "timeout": 180}'

Signs in on /auth, dismisses the release-notes dialog a first sign-in shows, opens the model
selector and checks every model is listed, then in one chat picks each model in turn, sends the
prompt and waits for that model's answer. Saves a screenshot of the chat. Prints one JSON object per
step on stdout ({"step", "ok", "detail"}); the e2e gateway stage turns them into checks.

Debian's chromium and chromedriver, given by path (Selenium's own driver download never runs),
with the flags a root, offline, headless browser needs; `--host-resolver-rules` resolves no name but
127.0.0.1, so the page cannot reach past loopback whatever it links to. The element ids and labels
are Open WebUI 0.12.4's (its Svelte frontend in the wheel: `email`, `password`, `chat-input`,
`model-selector-model-button`, `model-selector-list`, "Select <model> model", `send-message-button`,
`chat-assistant`, `regenerate-response-button`).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any, TypeVar

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1280,800",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
T = TypeVar("T")


def emit(step: str, ok: bool, detail: str = "") -> None:
    print(json.dumps({"step": step, "ok": ok, "detail": detail}), flush=True)


def wait_for(what: Callable[[], T | None], timeout: float, every: float = 0.5) -> T | None:
    """The first truthy value `what` returns within `timeout` seconds, else None."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = what()
        except WebDriverException:
            value = None
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)


def browser(user_data_dir: str) -> WebDriver:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={user_data_dir}"]:
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def finished_answers(driver: WebDriver) -> dict[str, str]:
    """Message id -> text of every finished assistant message (finished: its actions, the
    regenerate button among them, are rendered)."""
    done = {}
    for message in driver.find_elements(By.CSS_SELECTOR, "[id^='message-']"):
        bodies = message.find_elements(By.CSS_SELECTOR, ".chat-assistant")
        if bodies and message.find_elements(By.CSS_SELECTOR, ".regenerate-response-button"):
            done[message.get_attribute("id") or ""] = bodies[0].text.strip()
    return done


RECORD_JS = """
const done = arguments[arguments.length - 1];
fetch('/api/v1/chats/' + arguments[0], {headers: {Authorization: 'Bearer ' + localStorage.token}})
  .then(r => r.json()).then(done).catch(e => done({fetch_error: String(e)}));
"""


def recorded(driver: WebDriver, message_id: str) -> dict[str, Any]:
    """The message as Open WebUI stored it (GET /api/v1/chats/{id} with the page's own session token,
    open_webui/routers/chats.py): an upstream failure is kept in its `error`, not only shown."""
    chat_id = driver.current_url.rstrip("/").rsplit("/c/", 1)[-1]
    chat = driver.execute_async_script(RECORD_JS, chat_id) or {}
    messages = ((chat.get("chat") or {}).get("history") or {}).get("messages") or {}
    return dict(messages.get(message_id.removeprefix("message-")) or {})


def sign_in(driver: WebDriver, url: str, email: str, password: str, timeout: float) -> bool:
    driver.get(url + "/auth")
    field = wait_for(lambda: driver.find_element(By.ID, "email"), timeout)
    if field is None:
        emit("sign in", False, "no sign-in form at /auth")
        return False
    field.send_keys(email)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    chat = wait_for(lambda: driver.find_element(By.ID, "chat-input"), timeout)
    emit("sign in", chat is not None, f"as {email}" if chat else f"still at {driver.current_url}")
    # A first sign-in shows the release notes in a dialog over the chat.
    for button in wait_for(lambda: driver.find_elements(By.XPATH, "//button[normalize-space()=\"Okay, Let's Go!\"]"), 3) or []:
        button.click()
    return chat is not None


def listed_models(driver: WebDriver) -> list[str]:
    driver.find_element(By.ID, "model-selector-model-button").click()
    listing = wait_for(lambda: driver.find_element(By.ID, "model-selector-list").text, 10) or ""
    return [line.strip() for line in listing.splitlines() if line.strip()]


def pick(driver: WebDriver, model: str) -> bool:
    if not driver.find_elements(By.ID, "model-selector-list"):
        driver.find_element(By.ID, "model-selector-model-button").click()
    option = wait_for(lambda: driver.find_element(By.CSS_SELECTOR, f"button[aria-label='Select {model} model']"), 10)
    if option is None:
        return False
    option.click()
    return bool(wait_for(lambda: driver.find_element(By.ID, "model-selector-model-button").text.strip() == model, 10))


def ask(driver: WebDriver, prompt: str, timeout: float) -> tuple[str, str] | None:
    """Send `prompt` in the open chat; the new answer's message id and text once finished, None on time-out."""
    before = {m.get_attribute("id") for m in driver.find_elements(By.CSS_SELECTOR, "[id^='message-']")}
    driver.find_element(By.ID, "chat-input").send_keys(prompt)
    send = wait_for(lambda: driver.find_element(By.ID, "send-message-button"), 10)
    if send is None:
        return None
    send.click()
    new = wait_for(lambda: [(id_, text) for id_, text in finished_answers(driver).items() if id_ not in before], timeout, every=1)
    return new[0] if new else None


def expand_reasoning(driver: WebDriver) -> None:
    """Open each folded "Thought for ..." block (a reasoning parser's output, rendered collapsed), so
    the screenshot shows what the model generated; then take the focus off the input."""
    for header in driver.find_elements(By.XPATH, "//div[contains(@class, 'chat-assistant')]//*[starts-with(normalize-space(), 'Thought for')]"):
        try:
            header.click()
        except WebDriverException:
            continue
    driver.execute_script("document.activeElement && document.activeElement.blur()")
    time.sleep(1)


def main(spec: dict[str, Any]) -> int:
    url, timeout = spec["url"].rstrip("/"), float(spec.get("timeout", 180))
    failed = False
    with tempfile.TemporaryDirectory(prefix="e2e-chromium-") as profile:
        started = time.monotonic()
        driver = browser(profile)
        try:
            driver.set_page_load_timeout(timeout)
            emit("browser", True, f"{driver.capabilities.get('browserName')} "
                 f"{driver.capabilities.get('browserVersion')}, started in {time.monotonic() - started:.0f}s")
            if not sign_in(driver, url, spec["email"], spec["password"], timeout):
                return 1
            shown = listed_models(driver)
            missing = [m for m in spec["models"] if m not in shown]
            emit("model list", not missing, f"shows {shown}" + (f", missing {missing}" if missing else ""))
            failed |= bool(missing)
            for model in spec["models"]:
                if not pick(driver, model):
                    emit(f"answer from {model}", False, "could not pick it in the model selector")
                    failed = True
                    continue
                asked = time.monotonic()
                answer = ask(driver, spec["prompt"], timeout)
                if answer is None:
                    emit(f"answer from {model}", False, f"no finished answer within {timeout:.0f}s")
                    failed = True
                    continue
                stored = recorded(driver, answer[0])
                error = stored.get("error")
                content = str(stored.get("content") or "")
                # A reasoning parser's output (the qwen3 stack's) is stored as `output` items beside the content.
                output = [str(item.get("type")) for item in stored.get("output") or [] if isinstance(item, dict)]
                ok = not error and stored.get("model") == model and bool(content or output)
                emit(f"answer from {model}", ok, f"{time.monotonic() - asked:.0f}s, stored for {stored.get('model')!r}: "
                     f"{len(content)} characters of content, output {output}" + (f", error {json.dumps(error)[:160]}" if error else "")
                     + f", shows {answer[1][:60]!r}")
                failed |= not ok
            expand_reasoning(driver)
            driver.save_screenshot(spec["screenshot"])
            emit("screenshot", True, spec["screenshot"])
        except WebDriverException as error:
            emit("browser session", False, str(error).splitlines()[0])
            try:
                driver.save_screenshot(spec["screenshot"])
            except WebDriverException:
                pass
            failed = True
        finally:
            driver.quit()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(json.loads(sys.argv[1])))
