"""Guests: a display name only, held for moderation by default, marked "guest", rate-
limited, able to take back their own posts; a name that impersonates one of the jam's
people refused."""

from __future__ import annotations

import secrets

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from jamhost.accounts.guests import (
    guest_join,
    guest_post,
    guest_post_withdraw,
    guest_posts,
    guests_set,
    name_skeleton,
)
from jamhost.accounts.models import Guest
from jamhost.jams.models import Role
from jamhost.posts.models import AuditEntry, ModerationAction, Post, PostStatus
from jamhost.posts.post_moderation import post_approve, post_restore
from jamhost.posts.render import VIEWER, render_post
from tests.factories import MembershipFactory, UserFactory, live_jam
from tests.xstate import on_x

pytestmark = pytest.mark.django_db


@pytest.fixture
def jam():  # type: ignore[no-untyped-def]
    jam = live_jam()
    jam.host.first_name = "Hana"
    jam.host.last_name = "Host"
    jam.host.save()
    MembershipFactory(
        jam=jam, role=Role.PANELIST, user=UserFactory(username="pat_panel", first_name="Pat")
    )
    guests_set(jam=jam, actor=jam.host, enabled=True, hold_for_moderation=True)
    return jam


def test_guests_only_when_the_host_allows(jam) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied):
        guests_set(jam=jam, actor=UserFactory(), enabled=False, hold_for_moderation=True)
    guests_set(jam=jam, actor=jam.host, enabled=False, hold_for_moderation=True)
    with pytest.raises(ValidationError, match="not opened it to guests"):
        guest_join(jam=jam, display_name="Reader")


@pytest.mark.parametrize(
    "name",
    [
        "pat_panel",
        "PAT PANEL",
        "Pat.Panel",
        "\u0420at_\u0420anel",  # Cyrillic Er for P
        "\uff30\uff41\uff54\uff3f\uff50\uff41\uff4e\uff45\uff4c",  # fullwidth
        "Hana Host",
        "hana host (official)",
        "@pat_panel",
    ],
)
def test_a_name_like_a_panelists_or_the_hosts_is_refused(jam, name) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as refused:
        guest_join(jam=jam, display_name=name)
    assert "looks like the name of this jam's host" in str(refused.value)
    assert not Guest.objects.exists()


def test_bad_names_get_a_clear_message(jam) -> None:  # type: ignore[no-untyped-def]
    for bad, words in [
        ("", "Enter the name"),
        ("x" * 41, "40 characters"),
        ("Zed\u202eevil", "invisible or control"),
        ("!!!", "at least one letter"),
    ]:
        with pytest.raises(ValidationError, match=words):
            guest_join(jam=jam, display_name=bad)
    assert name_skeleton("Zoë Q.") == "zoeq"


def test_a_guest_post_is_held_marked_and_never_sent_to_x(jam, settings) -> None:  # type: ignore[no-untyped-def]
    settings.X_CLIENT_ID = "client"  # the jam runs on X: X's limit applies
    guest = guest_join(jam=jam, display_name="Reader Rae", address="10.0.0.1")
    post = guest_post(guest=guest, body="Is this recorded?", client_key="k1")
    again = guest_post(guest=guest, body="Is this recorded?", client_key="k1")
    assert again.pk == post.pk and Post.objects.filter(author_key=guest.author_key).count() == 1
    assert post.status == PostStatus.PENDING and post.is_guest and post.author is None
    assert post.author_name == "Reader Rae" and on_x(post).status == "local"
    assert post.text == f"Is this recorded? #{jam.hashtag}"
    post_approve(jam=jam, actor=jam.host, post_id=post.pk)
    post.refresh_from_db()
    html = render_post(post, VIEWER)
    assert 'class="badge guest"' in html and "@guest" not in html
    guests_set(jam=jam, actor=jam.host, enabled=True, hold_for_moderation=False)
    shown = guest_post(guest=guest, body="Thanks!")
    assert shown.status == PostStatus.VISIBLE
    with pytest.raises(ValidationError, match="over the limit"):
        guest_post(guest=guest, body="x" * 290)


def test_a_guest_takes_back_their_own_posts_only(jam) -> None:  # type: ignore[no-untyped-def]
    guest = guest_join(jam=jam, display_name="Reader Rae")
    other = guest_join(jam=jam, display_name="Other Otto")
    mine = guest_post(guest=guest, body="Oops")
    theirs = guest_post(guest=other, body="Keep")
    with pytest.raises(ValidationError, match="not one of your posts"):
        guest_post_withdraw(guest=guest, post_id=theirs.pk)
    gone = guest_post_withdraw(guest=guest, post_id=mine.pk)
    guest_post_withdraw(guest=guest, post_id=mine.pk)  # idempotent
    assert gone.status == PostStatus.HIDDEN and guest_posts(guest=guest) == []
    entries = AuditEntry.objects.filter(jam=jam, action=ModerationAction.WITHDRAW)
    assert [(e.post_id, e.actor_handle) for e in entries] == [(mine.pk, "Reader Rae (guest)")]
    with pytest.raises(ValidationError, match="took this post back"):
        post_restore(jam=jam, actor=jam.host, post_id=mine.pk)


def test_room_forms_session_and_rate_limits(client, jam, settings) -> None:  # type: ignore[no-untyped-def]
    settings.RATE_GUEST_POST_ADDRESS = "2/60"
    # An address of its own, so a run within a minute of another is not over the limit.
    client.defaults["REMOTE_ADDR"] = ".".join(
        ["10", *(str(secrets.randbelow(250)) for _ in range(3))]
    )
    room = reverse("live:room", args=[jam.slug])
    assert "Post as a guest" in client.get(room).text
    refused = client.post(
        reverse("guests:join", args=[jam.slug]), {"display_name": "PAT_PANEL"}, follow=True
    )
    assert "looks like the name" in refused.text and "Your post" not in refused.text
    joined = client.post(
        reverse("guests:join", args=[jam.slug]), {"display_name": "Rae"}, follow=True
    )
    assert "You are posting as Rae (guest)." in joined.text and "Your post" in joined.text
    url = reverse("guests:post", args=[jam.slug])
    first = client.post(url, {"body": "first"}, follow=True)
    assert "a moderator approves it" in first.text
    client.post(url, {"body": "second"})
    limited = client.post(url, {"body": "third"}, follow=True)
    assert "Too many guest posts for now" in limited.text
    assert Post.objects.filter(author_key__startswith="guest:").count() == 2
    mine = Post.objects.filter(author_key__startswith="guest:").first()
    assert mine is not None
    stranger = client_class_new()
    assert stranger.post(reverse("guests:withdraw", args=[jam.slug, mine.pk])).status_code == 403
    client.post(reverse("guests:withdraw", args=[jam.slug, mine.pk]))
    mine.refresh_from_db()
    assert mine.status == PostStatus.HIDDEN


def client_class_new():  # type: ignore[no-untyped-def]
    from django.test import Client

    return Client()


def test_the_console_names_a_guest_by_their_display_name(client, jam) -> None:  # type: ignore[no-untyped-def]
    from jamhost.posts.console_selectors import people_in_jam

    guest = guest_join(jam=jam, display_name="Reader Rae", address="10.0.0.1")
    guest_post(guest=guest, body="Is this recorded?")
    (person,) = [p for p in people_in_jam(jam=jam) if p.author_key == guest.author_key]
    assert person.shown_as == "Reader Rae (guest)"
    client.force_login(jam.host)
    page = client.get(reverse("posts:console", args=[jam.slug])).content.decode()
    assert ">Reader Rae (guest)</button>" in page
    assert f">@{person.handle}<" not in page


def test_a_guest_is_not_among_the_people_to_follow(jam) -> None:  # type: ignore[no-untyped-def]
    from jamhost.audience.selectors import people_to_follow

    guests_set(jam=jam, actor=jam.host, enabled=True, hold_for_moderation=False)
    guest = guest_join(jam=jam, display_name="Reader Rae", address="10.0.0.1")
    assert guest_post(guest=guest, body="Hello all").status == PostStatus.VISIBLE
    people = people_to_follow(jam=jam)
    assert guest.author_key not in {p.author_key for p in people}  # a name only
    assert [p.handle for p in people] == ["pat_panel"]  # the panelist, who has not posted
