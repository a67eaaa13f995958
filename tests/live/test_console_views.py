"""The console page, its no-JavaScript action form (CSRF), its panels, and the big screen
with a QR code that decodes back to the join link."""

from __future__ import annotations

import re

import pytest
import zxingcpp
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from jamhost.jams.models import Role
from jamhost.jams.people import membership_remove
from jamhost.posts import author_moderation, post_moderation
from jamhost.posts.models import AuditEntry, PostStatus
from jamhost.posts.services import post_compose
from tests.factories import MembershipFactory, UserFactory, live_jam

pytestmark = pytest.mark.django_db


@pytest.fixture
def jam():  # type: ignore[no-untyped-def]
    return live_jam(released=1)


def logged_in(user, *, csrf: bool = False) -> Client:  # type: ignore[no-untyped-def]
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


def console_url(jam) -> str:  # type: ignore[no-untyped-def]
    return reverse("posts:console", kwargs={"slug": jam.slug})


def test_console_is_for_host_moderators_and_staff_only(jam) -> None:  # type: ignore[no-untyped-def]
    moderator = MembershipFactory(jam=jam, role=Role.MODERATOR).user
    panelist = MembershipFactory(jam=jam, role=Role.PANELIST).user
    for user in (jam.host, moderator, UserFactory(is_staff=True)):
        response = logged_in(user).get(console_url(jam))
        assert response.status_code == 200, user
        assert f"/ws/jams/{jam.slug}/console/" in response.content.decode()
    for client in (logged_in(panelist), logged_in(UserFactory()), Client()):
        response = client.get(console_url(jam))
        assert response.status_code == 403
        assert "host and moderators" in response.content.decode()


def test_console_shows_every_post_with_status_author_role_and_actions(jam) -> None:  # type: ignore[no-untyped-def]
    panelist = MembershipFactory(jam=jam, role=Role.PANELIST).user
    answer = post_compose(jam=jam, user=panelist, body="Panel answer")
    hidden = post_compose(jam=jam, user=UserFactory(), body="Hidden thing")
    post_moderation.post_hide(jam=jam, actor=jam.host, post_id=hidden.pk, reason="off topic")
    page = logged_in(jam.host).get(console_url(jam)).content.decode()
    assert "Panel answer" in page and "Hidden thing" in page
    assert 'data-status="hidden"' in page and "off topic" in page
    assert 'data-role="panelist"' in page and f"@{panelist.username}" in page
    assert 'data-question="1"' in page
    assert f'name="post" value="{answer.pk}"' in page and 'value="feature"' in page
    assert 'value="restore"' in page  # the hidden post offers restore
    # The audit log and the people panel come with the page.
    assert "off topic" in page.split('id="audit-title"')[1]
    assert f"@{panelist.username}" in page.split('id="people-title"')[1]
    # The viewers' room does not show the hidden post.
    room = Client().get(reverse("live:room", kwargs={"slug": jam.slug})).content.decode()
    assert "Hidden thing" not in room and "Panel answer" in room


def test_post_form_without_csrf_token_is_refused(jam) -> None:  # type: ignore[no-untyped-def]
    post = post_compose(jam=jam, user=UserFactory(), body="keep me")
    client = logged_in(jam.host, csrf=True)
    response = client.post(console_url(jam), {"action": "hide", "post": post.pk})
    assert response.status_code == 403
    post.refresh_from_db()
    assert post.status == PostStatus.VISIBLE


def test_post_form_with_csrf_token_applies_the_action(jam) -> None:  # type: ignore[no-untyped-def]
    post = post_compose(jam=jam, user=UserFactory(), body="hide me")
    client = logged_in(jam.host, csrf=True)
    page = client.get(console_url(jam)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None
    response = client.post(
        console_url(jam),
        {
            "csrfmiddlewaretoken": token.group(1),
            "action": "hide",
            "post": post.pk,
            "rev": post.rev,
        },
    )
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.status == PostStatus.HIDDEN
    assert AuditEntry.objects.get().key == f"hide:{post.pk}@{post.rev - 1}"


def test_every_form_on_the_console_carries_a_csrf_token(jam) -> None:  # type: ignore[no-untyped-def]
    post_compose(jam=jam, user=UserFactory(), body="x")
    page = logged_in(jam.host).get(console_url(jam)).content.decode()
    # The console's own forms: the ones that go over the socket when JavaScript runs.
    forms = re.findall(r"<form\b[^>]*method=\"post\" ws-send[^>]*>(.*?)</form>", page, re.S)
    assert len(forms) >= 5
    assert all("csrfmiddlewaretoken" in form for form in forms), [
        f for f in forms if "csrfmiddlewaretoken" not in f
    ]


def test_bad_form_input_gets_a_clear_4xx(jam) -> None:  # type: ignore[no-untyped-def]
    other = post_compose(jam=live_jam(), user=UserFactory(), body="elsewhere")
    client = logged_in(jam.host)
    cases = [
        ({"action": "hide", "post": 999_999}, 404, "no post 999999"),
        ({"action": "hide", "post": other.pk}, 404, "another jam"),
        ({"action": "hide", "post": "12abc"}, 409, "must be a number"),
        ({"action": "explode", "post": 1}, 409, "no console action"),
        ({}, 409, "missing"),
    ]
    for data, status, message in cases:
        response = client.post(console_url(jam), data)
        assert response.status_code == status, data
        assert message in response.content.decode(), data
    other.refresh_from_db()
    assert other.status == PostStatus.VISIBLE


def test_a_user_whose_role_was_removed_gets_403_on_post(jam) -> None:  # type: ignore[no-untyped-def]
    moderator = MembershipFactory(jam=jam, role=Role.MODERATOR).user
    post = post_compose(jam=jam, user=UserFactory(), body="x")
    client = logged_in(moderator)
    membership_remove(jam=jam, user_id=moderator.pk, actor=jam.host)
    response = client.post(console_url(jam), {"action": "hide", "post": post.pk})
    assert response.status_code == 403
    post.refresh_from_db()
    assert post.status == PostStatus.VISIBLE


def test_htmx_post_gets_the_notice_fragment(jam) -> None:  # type: ignore[no-untyped-def]
    post = post_compose(jam=jam, user=UserFactory(), body="x")
    client = logged_in(jam.host)
    response = client.post(
        console_url(jam), {"action": "pin", "post": post.pk}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert (
        'id="console-notice"' in response.content.decode() and "pinned" in response.content.decode()
    )


def test_panels_refresh_shows_new_audit_entries_and_people(jam) -> None:  # type: ignore[no-untyped-def]
    troll = UserFactory()
    post = post_compose(jam=jam, user=troll, body="x")
    author_moderation.author_block(
        jam=jam, actor=jam.host, author_key=post.author_key, reason="spam"
    )
    url = reverse("posts:console_panels", kwargs={"slug": jam.slug})
    panels = logged_in(jam.host).get(url).content.decode()
    assert f"@{troll.username}" in panels and "blocked" in panels
    assert 'value="unblock"' in panels and "spam" in panels
    assert Client().get(url).status_code == 403


def decode_svg_qr(svg: str) -> list[str]:
    """Rasterise qrcode's SVG path (one unit square per dark module) and decode it."""
    size = int(re.search(r'viewBox="0 0 (\d+) \1"', svg).group(1))  # type: ignore[union-attr]
    dark = {(int(x), int(y)) for x, y in re.findall(r"M(\d+),(\d+)H", svg)}
    assert dark, "no modules found in the SVG"
    scale = 4
    rows = []
    for y in range(size):
        row = b"".join((b"\x00" if (x, y) in dark else b"\xff") * scale for x in range(size))
        rows.extend([row] * scale)
    image = memoryview(b"".join(rows)).cast("B", shape=[size * scale, size * scale])
    return [barcode.text for barcode in zxingcpp.read_barcodes(image)]


def test_big_screen_shows_question_hashtag_featured_pinned_and_a_qr_code_to_join(
    jam, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.SITE_URL = "https://jams.example.org"
    panelist = MembershipFactory(jam=jam, role=Role.PANELIST).user
    featured = post_compose(jam=jam, user=panelist, body="Featured answer")
    pinned = post_compose(jam=jam, user=UserFactory(), body="Pinned note")
    post_compose(jam=jam, user=UserFactory(), body="Ordinary chatter")
    post_moderation.post_feature(jam=jam, actor=jam.host, post_id=featured.pk)
    post_moderation.post_pin(jam=jam, actor=jam.host, post_id=pinned.pk)
    response = Client().get(reverse("posts:screen", kwargs={"slug": jam.slug}))
    assert response.status_code == 200
    page = response.content.decode()
    assert f"#{jam.hashtag}" in page
    assert jam.current_question.text in page
    assert "Featured answer" in page and "Pinned note" in page
    assert "Ordinary chatter" not in page
    assert f'ws-connect="/ws/jams/{jam.slug}/live/"' in page  # it updates live
    join = f"https://jams.example.org/jams/{jam.slug}/live/"
    svg = re.search(r"<svg.*?</svg>", page, re.S)
    assert svg is not None
    assert decode_svg_qr(svg.group(0)) == [join]


def test_big_screen_of_unknown_jam_is_404() -> None:
    assert Client().get("/jams/no-such-jam/screen/").status_code == 404


def test_audit_log_and_blocks_in_the_admin(jam) -> None:  # type: ignore[no-untyped-def]
    troll = UserFactory(username="troll_in_admin")
    post = post_compose(jam=jam, user=troll, body="x")
    author_moderation.author_block(
        jam=jam, actor=jam.host, author_key=post.author_key, reason="abuse"
    )
    admin = logged_in(UserFactory(is_staff=True, is_superuser=True))
    log = admin.get("/admin/posts/auditentry/").content.decode()
    assert "troll_in_admin" in log and "abuse" in log and jam.host.username in log
    blocks = admin.get("/admin/posts/block/").content.decode()
    assert "troll_in_admin" in blocks


def test_console_page_queries_do_not_grow_with_posts(jam, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(jam.host)
    people = [UserFactory() for _ in range(3)]
    for n in range(3):
        post_compose(jam=jam, user=people[n], body=f"first {n}?")
    client.get(console_url(jam))  # warm: session, content types
    with CaptureQueriesContext(connection) as few:
        assert client.get(console_url(jam)).status_code == 200
    for n in range(12):
        post = post_compose(jam=jam, user=people[n % 3], body=f"more {n}")
        post_moderation.post_pin(jam=jam, actor=jam.host, post_id=post.pk)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(console_url(jam)).status_code == 200
