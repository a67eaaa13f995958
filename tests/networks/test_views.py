from __future__ import annotations

import pytest
from django.urls import reverse

from jamhost.networks.models import XStatus
from jamhost.networks.usage import usage_record
from jamhost.posts.render import MODERATOR, VIEWER, render_post
from jamhost.posts.services import post_compose
from tests.factories import MembershipFactory, UserFactory, live_jam
from tests.networks.conftest import link_x
from tests.xstate import LOCAL, on_x

pytestmark = pytest.mark.django_db


def test_jam_page_says_x_is_not_connected_without_credentials(client, settings):  # type: ignore[no-untyped-def]
    settings.X_CLIENT_ID = ""
    jam = live_jam()
    page = client.get(jam.get_absolute_url())
    assert page.status_code == 200
    assert "X is not connected" in page.content.decode()
    # Everything else works on local posts.
    client.force_login(jam.host)
    answer = client.post(reverse("live:compose", args=[jam.slug]), {"body": "local is fine"})
    assert answer.status_code in (200, 302)
    local = jam.posts.get(body="local is fine")
    assert on_x(local).status == LOCAL and "x" not in local.elsewhere
    room = client.get(reverse("live:room", args=[jam.slug])).content.decode()
    assert "Local only" in room
    assert "X is not connected" in room


def test_host_sees_cost_panel_others_do_not(client, x_server):  # type: ignore[no-untyped-def]
    jam = live_jam()
    usage_record(jam_id=jam.pk, reads=990)
    usage_record(jam_id=jam.pk, reads=10, lookup=True)  # confirming a post after a lost answer
    usage_record(jam_id=jam.pk, creates=1, with_url=True)
    usage_record(jam_id=jam.pk, creates=2)
    client.force_login(jam.host)
    page = client.get(jam.get_absolute_url()).content.decode()
    assert '<td class="x-reads">1000</td>' in page
    assert '<td class="x-lookup-reads">10</td>' in page
    assert '<td class="x-creates">2</td>' in page
    assert '<td class="x-creates-url">1</td>' in page
    assert "$5.23" in page  # 1000 * 0.005 + 2 * 0.015 + 1 * 0.20
    assert "Connect X" in page  # the host has not linked the account that posts questions

    room = client.get(reverse("live:room", args=[jam.slug])).content.decode()
    assert (
        "X so far: 1000 read (10 confirming posts), 3 created (1 with a link), about $5.23" in room
    )

    client.force_login(UserFactory())
    page = client.get(jam.get_absolute_url()).content.decode()
    assert "x-reads" not in page
    assert "X so far" not in client.get(reverse("live:room", args=[jam.slug])).content.decode()


def test_post_fragment_shows_network_status_and_retry(
    client, x_server, django_capture_on_commit_callbacks
):  # type: ignore[no-untyped-def]
    jam = live_jam()
    panelist = UserFactory()
    MembershipFactory(jam=jam, user=panelist)
    link_x(x_server, panelist)
    x_server.fault_next(
        "/2/tweets",
        "raw",
        status=403,
        body={
            "type": "https://api.x.com/2/problems/disallowed-resource",
            "title": "Forbidden",
            "detail": "You are not permitted to perform this action.",
        },
    )
    with django_capture_on_commit_callbacks(execute=True):
        post = post_compose(jam=jam, user=panelist, body="this one fails")
    post.refresh_from_db()
    assert on_x(post).status == XStatus.FAILED
    viewer = render_post(post, VIEWER)
    moderator = render_post(post, MODERATOR)
    assert "Not on X: X answered 403" in viewer
    retry_url = reverse("networks:retry", args=[post.pk])
    assert f'hx-post="{retry_url}"' in moderator
    assert f'data-retry-author="{post.author_key}" hidden' in viewer  # shown to the author by JS

    # A stranger may not retry; a plain user gets 403, never a 500.
    client.force_login(UserFactory())
    assert client.post(retry_url).status_code == 403
    client.force_login(panelist)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(retry_url, headers={"HX-Request": "true"})
    assert answer.status_code == 204
    post.refresh_from_db()
    assert on_x(post).status == XStatus.PUBLISHED
    fragment = render_post(post, VIEWER)
    assert f"https://x.com/i/web/status/{on_x(post).x_id}" in fragment
    # Retrying a published post explains itself.
    again = client.post(retry_url, follow=True)
    assert "Only a post that failed" in again.content.decode()
    assert client.post(reverse("networks:retry", args=[999999])).status_code == 404
