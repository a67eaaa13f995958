from __future__ import annotations

import os
import subprocess
import sys

import pytest

from jamhost.networks.x import client as x
from tests.networks.conftest import APP_BEARER


def test_official_hosts_are_sent_to_the_configured_base_url(x_server):  # type: ignore[no-untyped-def]
    uid = x_server.user_add("someone")
    access, _ = x_server.token_issue(uid)
    session = x.x_client(access).session
    for host in ("https://api.x.com", "https://api.twitter.com"):
        answer = session.get(f"{host}/2/users/me", headers={"authorization": f"Bearer {access}"})
        assert answer.status_code == 200
        assert answer.json()["data"]["username"] == "someone"
    assert len(x_server.requests_to("/2/users/me")) == 2
    # Through tweepy itself, too.
    assert x.user_me(token=access)["id"] == uid


def test_default_base_url_is_the_official_host():  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith("X_")}
    env["DEBUG"] = "true"
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.X_API_BASE_URL)",
        ],
        env={**env, "DJANGO_SETTINGS_MODULE": "jamhost.settings"},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert out.stdout.strip() == "https://api.x.com"


@pytest.mark.parametrize(
    ("kind", "error", "text"),
    [
        ("500", x.XUnavailable, "X answered 500"),
        ("503", x.XUnavailable, "X answered 503"),
        ("malformed", x.XUnavailable, "not JSON"),
        ("429", x.XRateLimited, "rate limit"),
    ],
)
def test_failures_become_typed_errors(x_server, kind, error, text):  # type: ignore[no-untyped-def]
    x_server.fault_next("/2/tweets/search/recent", kind)
    with pytest.raises(error, match=text):
        x.search_recent(token=APP_BEARER, query="#tag -is:retweet")


def test_slow_answer_past_the_timeout(x_server, settings):  # type: ignore[no-untyped-def]
    settings.X_TIMEOUT = 0.5
    x_server.fault_next("/2/tweets/search/recent", "slow", delay=1.5)
    with pytest.raises(x.XUnavailable, match=r"did not answer within 0\.5 s"):
        x.search_recent(token=APP_BEARER, query="#tag")


def test_bad_token_and_refusals(x_server):  # type: ignore[no-untyped-def]
    with pytest.raises(x.XUnauthorized):
        x.search_recent(token="not-a-token", query="#tag")
    uid = x_server.user_add("poster")
    access, _ = x_server.token_issue(uid)
    with pytest.raises(x.XRefused, match="too long"):
        x.post_create(token=access, text="x" * 300)
    x.post_create(token=access, text="hello")
    with pytest.raises(x.XRefused, match="duplicate content"):
        x.post_create(token=access, text="hello")
