from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def signup(client, **overrides: str):  # type: ignore[no-untyped-def]
    data = {
        "username": "newbie",
        "first_name": "New Person",
        "password1": "a-long-passphrase-9",
        "password2": "a-long-passphrase-9",
    }
    data.update(overrides)
    return client.post(reverse("signup"), data)


def test_sign_up_logs_in_and_goes_to_the_jams(client) -> None:  # type: ignore[no-untyped-def]
    response = signup(client)
    assert response.status_code == 302
    assert response["Location"] == reverse("jams:list")
    user = get_user_model().objects.get(username="newbie")
    assert user.first_name == "New Person"
    assert client.get(reverse("jams:mine")).status_code == 200  # signed in


def test_sign_up_returns_to_a_local_next_only(client) -> None:  # type: ignore[no-untyped-def]
    assert signup(client, next="/mine/")["Location"] == "/mine/"
    client.logout()
    response = signup(client, username="other", next="https://evil.example/")
    assert response["Location"] == reverse("jams:list")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"username": ""}, "This field is required."),
        ({"password2": "different-passphrase"}, "password fields didn"),
        ({"password1": "123", "password2": "123"}, "too short"),
        ({"password1": "password", "password2": "password"}, "too common"),
        ({"username": "bad name!"}, "letters A–Z, digits or underscores"),
        ({"username": "u" * 500}, "at most 150 characters"),
        ({"first_name": "n" * 500}, "at most 120 characters"),
        ({"username": "taken"}, "already exists"),
    ],
)
def test_bad_sign_ups_get_field_errors(client, overrides, message) -> None:  # type: ignore[no-untyped-def]
    UserFactory(username="taken")
    response = signup(client, **overrides)
    assert response.status_code == 200
    assert message in response.content.decode().replace("&#x27;", "'")
    assert get_user_model().objects.count() == 1


def test_log_in_and_out(client) -> None:  # type: ignore[no-untyped-def]
    UserFactory(username="pat")
    response = client.post(
        reverse("login"), {"username": "pat", "password": "correct-horse-battery", "next": "/mine/"}
    )
    assert response["Location"] == "/mine/"
    assert client.get("/mine/").status_code == 200
    client.post(reverse("logout"))
    assert client.get("/mine/").status_code == 302


@pytest.mark.parametrize(
    ("username", "password"),
    [("pat", "wrong"), ("nobody", "correct-horse-battery"), ("", ""), ("p" * 5000, "x")],
)
def test_a_failed_log_in_says_so(client, username, password) -> None:  # type: ignore[no-untyped-def]
    UserFactory(username="pat")
    response = client.post(reverse("login"), {"username": username, "password": password})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Please enter a correct username and password" in html or "required" in html


def test_the_headers_sign_up_link_comes_back_to_the_page(client) -> None:  # type: ignore[no-untyped-def]
    import re

    page = client.get(reverse("jams:list")).content.decode()
    link = re.search(r'href="(/accounts/signup/[^"]*)"', page)
    assert link is not None and "next=" in link.group(1)
    form = client.get(link.group(1).replace("&amp;", "&")).content.decode()
    assert f'name="next" value="{reverse("jams:list")}"' in form
