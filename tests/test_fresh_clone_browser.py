"""A fresh deployment (issue 23): with empty build and data folders the first visitor gets the
map with its place markers, and nothing on the way builds the gazetteer (the shipped geoparse
of the bundled corpus stands in for it). Timing is the bench's (``fresh_clone_map_s``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ARTIFACTS_DIR, DEFAULT_CORPUS, AppPage

from kzgeo import harness
from kzgeo.bench import PLACES_DRAWN_JS
from kzgeo.config import BUILD_ENV_VAR, DATA_ENV_VAR

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]


def test_a_fresh_build_and_data_folder_shows_the_map_without_building_the_gazetteer(
    tmp_path: Path, app_page: AppPage
):
    build, data = tmp_path / "build", tmp_path / "data"
    server = harness.start_streamlit(DEFAULT_CORPUS, ARTIFACTS_DIR,
                                     {BUILD_ENV_VAR: str(build), DATA_ENV_VAR: str(data)},
                                     warm=False)
    try:
        app_page.open(server.url)
        app_page.wait_for_map()
        frame = app_page.map_iframe.element_handle().content_frame()
        frame.wait_for_function(PLACES_DRAWN_JS, timeout=60_000)
        drawn = frame.evaluate("""() => {
          const ids = [];
          window.map.eachLayer((l) => { if (l.feature) ids.push(l.feature.properties.id); });
          return ids;
        }""")
        assert {"almaty", "astana"} <= set(drawn)
        # the index was built (through the per-article cache), the gazetteer was not
        assert (build / "geoparse").is_dir() and not (build / "gazetteer.pickle").exists()
        app_page.log.assert_offline()
        app_page.log.assert_no_console_errors()
    finally:
        server.stop()
