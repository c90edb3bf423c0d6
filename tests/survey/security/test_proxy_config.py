"""SIPAS_PROXY_HOPS: parsed strictly; with one proxy the client address, scheme and host come
from its X-Forwarded-* headers."""

from __future__ import annotations

from pathlib import Path

import pytest

from survey import ConfigError, create_app
from survey.config import load_env


def make(tmp_path: Path, **overrides):
    return create_app({"SECRET_KEY": "s" * 40, "TESTING": True, **overrides}, instance_path=str(tmp_path))


@pytest.mark.parametrize("value", ["-1", "6", "true", '"1"', "1.5"])
def test_bad_proxy_hops_are_refused_with_one_line(tmp_path: Path, value: str) -> None:
    app = make(tmp_path)
    load_env(app, {"SIPAS_PROXY_HOPS": value})
    from survey.config import proxy_hops

    with pytest.raises(ConfigError, match="SIPAS_PROXY_HOPS"):
        proxy_hops(app)


def test_one_proxy_hop_trusts_the_last_forwarded_values(tmp_path: Path) -> None:
    app = make(tmp_path, PROXY_HOPS=1)

    @app.route("/_who")
    def who() -> dict[str, str]:
        from flask import request

        return {"addr": request.remote_addr or "", "scheme": request.scheme, "host": request.host}

    headers = {
        "X-Forwarded-For": "192.0.2.1, 203.0.113.7",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "sipas.example",
    }
    seen = app.test_client().get("/_who", headers=headers).get_json()
    assert seen == {"addr": "203.0.113.7", "scheme": "https", "host": "sipas.example"}
    plain = make(tmp_path / "direct")
    plain.add_url_rule("/_who", view_func=who)
    assert plain.test_client().get("/_who", headers=headers).get_json()["addr"] == "127.0.0.1"
