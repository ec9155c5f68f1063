"""JupyterLab in a real browser, as a student uses it: start JupyterLab on a free localhost port, open a
lecture notebook in headless Chromium (Debian's `chromium`, driven by Playwright), run all cells, drag
a slider of an `explore` widget and check that its figure changes. Screenshots are kept as test
artefacts in test-artifacts/browser/ (or $COURSE_TEST_ARTIFACTS).

Needs Debian's chromium (`make browser`, which `make test-runtimes` and so .ci/run call) and the
`playwright` package (dev extra); Playwright never downloads a browser of its own here. Without a
Chromium the test is skipped with a message saying how to install one. It carries the `browser` marker:
`make test-runtimes` runs it.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from kernel_helpers import frontend_env

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "01_what_is_generative_modeling.ipynb"
ARTIFACTS = Path(os.environ.get("COURSE_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "browser"
TOKEN = "genai-course-browser-test"


def find_chromium() -> str | None:
    for name in (os.environ.get("COURSE_CHROMIUM", ""), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on a free port, serving a copy of the notebook; (base URL, log path)."""
    home = tmp_path_factory.mktemp("lab")
    work, settings = home / "work", home / "settings" / "@jupyterlab"
    work.mkdir()
    # Outputs and execution counts cleared, so every figure and "[n]" seen later comes from this run.
    nb = nbformat.read(NOTEBOOK, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.write(nb, work / NOTEBOOK.name)
    # Render every cell (no virtual scrolling, so the widget is in the page wherever it is) and no news
    # pop-up over the page.
    (settings / "notebook-extension").mkdir(parents=True)
    (settings / "notebook-extension" / "tracker.jupyterlab-settings").write_text(
        json.dumps({"windowingMode": "none"}))
    (settings / "apputils-extension").mkdir(parents=True)
    (settings / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    port = free_port()
    env = frontend_env(JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
                       JUPYTER_DATA_DIR=str(home / "data"),       # no user kernelspec shadows python3
                       JUPYTER_RUNTIME_DIR=str(home / "runtime"), JUPYTER_CONFIG_DIR=str(home / "config"))
    log = open(home / "lab.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         "--port-retries=0", f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={work}",
         # a kernel that starts slowly on a loaded 2-core machine is not a failure (jupyter_server waits 60 s)
         "--MappingKernelManager.kernel_info_timeout=240"]
        + (["--allow-root"] if os.geteuid() == 0 else []),
        env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"JupyterLab did not start:\n{(home / 'lab.log').read_text()[-3000:]}")
                time.sleep(0.5)
        yield base, home / "lab.log"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium and Playwright to drive it, or a skip that says what is missing."""
    path = find_chromium()
    if path is None:
        pytest.skip("no Chromium found: install Debian's package (`make browser`, i.e. apt-get install "
                    "chromium) or set COURSE_CHROMIUM to a Chromium binary")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("the playwright package is missing: make setup installs it (dev extra)")
    return path


def test_run_all_then_drag_a_slider_redraws_the_figure(chromium, lab):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright
    base, log = lab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        try:
            page.goto(f"{base}/lab/tree/{NOTEBOOK.name}?token={TOKEN}")
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000)
            prompts = page.locator(".jp-Notebook .jp-CodeCell .jp-InputPrompt")
            for attempt in range(5):   # the menu item does nothing until the kernel session is wired up
                page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
                page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
                try:
                    page.wait_for_function("els => els.some(e => e.innerText.trim() !== '[ ]:')",
                                           arg=prompts.element_handles(), timeout=10_000)
                    break
                except PlaywrightTimeout:
                    continue
            else:
                pytest.fail("Run > Run All Cells never started the notebook")
            # Done when every code cell shows an execution count: "[*]" runs, "[ ]" never ran (an error
            # stops Run All there).
            stderr = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
            deadline = time.monotonic() + 300
            while True:
                texts = [t.strip() for t in prompts.all_inner_texts()]
                errors = [t[-600:] for t in stderr.all_inner_texts() if "Error" in t]   # tracebacks
                assert errors == [], f"a cell failed under Run All: {errors}"
                if texts and all(re.fullmatch(r"\[\d+\]:", t) for t in texts):
                    break
                assert time.monotonic() < deadline, f"Run All did not finish: {texts}"
                time.sleep(1)
            page.screenshot(path=str(ARTIFACTS / "1_after_run_all.png"), full_page=True)

            explorer = page.locator(".widget-vbox", has=page.locator(".widget-output img")).first
            explorer.scroll_into_view_if_needed()
            explorer.screenshot(path=str(ARTIFACTS / "2_explorer_before.png"))
            figure = explorer.locator(".widget-output img").first
            before = figure.get_attribute("src")
            readout = explorer.locator(".widget-slider .widget-readout, .widget-hslider .widget-readout").first
            value_before = readout.inner_text()
            handle = explorer.locator(".noUi-handle, .ui-slider-handle").first
            box = handle.bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.mouse.down()
            page.mouse.move(box["x"] + 120, box["y"] + box["height"] / 2, steps=12)
            page.mouse.up()
            deadline = time.monotonic() + 120
            while figure.get_attribute("src") == before:
                assert time.monotonic() < deadline, "the figure did not change after the slider moved"
                time.sleep(0.5)
                figure = explorer.locator(".widget-output img").first
            value_after = readout.inner_text()
            explorer.screenshot(path=str(ARTIFACTS / "3_explorer_after.png"))
            page.screenshot(path=str(ARTIFACTS / "4_page_after.png"))
        finally:
            page.screenshot(path=str(ARTIFACTS / "0_last_state.png"), full_page=True)  # also on failure
            browser.close()
    assert value_after != value_before, (value_before, value_after)
