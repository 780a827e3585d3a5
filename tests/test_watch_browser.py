"""A living map (#22): an article `watch` adds to the corpus reaches the running app at its next
run, without a restart, listed first and marked new."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from conftest import ARTIFACTS_DIR, DEFAULT_CORPUS, AppPage, BrowserLog, new_guarded_page

from kzgeo import harness
from kzgeo.config import PROJECT_ROOT
from tests.test_watch import FeedSite, serve_site, watch_command

pytestmark = [pytest.mark.browser, pytest.mark.timeout(400)]

TITLE = "Aktau wird zum Tor nach Westen"  # the fixture page of /artikel/aktau-hafen


def test_a_watched_article_reaches_the_running_app_marked_new(browser, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(DEFAULT_CORPUS, corpus)
    env = {"KZGEO_DATA_DIR": str(tmp_path / "data"), "KZGEO_ALLOW_PRIVATE_URLS": "1"}
    server = harness.start_streamlit(corpus, ARTIFACTS_DIR, env)
    try:
        log = BrowserLog()
        app_page = AppPage(new_guarded_page(browser, log), log)
        page = app_page.open(server.url).page
        app_page.wait_for_map(min_paths=20)
        assert page.get_by_text(TITLE).count() == 0

        for site in serve_site(FeedSite(slow=False)):
            done = subprocess.run(
                [*watch_command(site, "--once", feeds=("/feeds/main.rss",)), "--corpus",
                 str(corpus)],
                env={**os.environ, **env}, cwd=PROJECT_ROOT, capture_output=True,
                text=True, timeout=240,
            )  # fmt: skip
            assert done.returncode == 0, done.stderr

        app_page.open(server.url)  # the next run of the same server: no restart
        app_page.wait_for_map(min_paths=20)
        page.locator("ul.kz-articles li.kz-fresh").filter(has_text=TITLE).wait_for()
        classes = page.locator("ul.kz-articles li").evaluate_all(
            "items => items.map(item => item.className)")
        arrived = classes.count("kz-fresh")
        assert arrived >= 2 and classes[:arrived] == ["kz-fresh"] * arrived  # newest first
        assert "new ·" in page.locator("li.kz-fresh").first.inner_text()
        assert "The corpus last changed" in page.locator("body").inner_text()
        app_page.screenshot("watch-new-article")
        app_page.open(server.url, "?place=middle-corridor")  # no article named it before
        page.locator(".kz-quote").filter(has_text="über den Mittleren Korridor").wait_for()
        log.assert_offline()
        page.context.close()
    finally:
        server.stop()
