"""Sessions share the cached index, map and gazetteer: one session's selection, filters and
pages of quotes must not change what the next session is shown (AppTest, one process)."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from kzgeo.config import PROJECT_ROOT


def new_session(**params) -> AppTest:
    """Run app.py on the bundled corpus as a new session opened with link ``params``."""
    app = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    for key, value in params.items():
        app.query_params[key] = value
    app.run()
    assert not app.exception, [e.message for e in app.exception]
    return app


def shown(app: AppTest) -> tuple:
    """What a session is shown of the shared data: the map's script, captions, button labels."""
    maps = [e for e in app.get("component_instance")
            if e.proto.component_name.endswith("st_folium")]  # fmt: skip
    script = json.loads(maps[0].proto.json_args)["script"]
    return script, [c.value for c in app.caption], [b.label for b in app.button]


def test_a_sessions_choices_leave_the_next_sessions_page_as_it_was(monkeypatch):
    monkeypatch.delenv("KZGEO_CORPUS", raising=False)
    before = shown(new_session())

    busy = new_session(  # a place's quotes follow the themes: these keep more than a page
        place="moscow", themes="security,diplomacy,territory", **{"from": "2022-01-02"}
    )
    more = [b for b in busy.button if b.label.startswith("Show ")]
    assert more, [b.label for b in busy.button]  # Moscow has more quotes than one page
    more[0].click().run()
    busy.session_state["place"] = "astana"
    busy.run()
    assert shown(busy) != before  # that session's own page did change

    assert shown(new_session()) == before
