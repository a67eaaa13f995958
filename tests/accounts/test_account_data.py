"""A person's own data: download their posts; delete their account, after which their
posts show as a deleted user, or are removed, as each jam's host chose: live, in replays
and in archived transcripts."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.test import Client

from jamhost.accounts.services import AccountDeleted, account_delete
from jamhost.audience.flags import flag_add
from jamhost.audience.models import Flag, Vote
from jamhost.audience.votes import vote_add
from jamhost.jams.lifecycle import jam_end
from jamhost.jams.models import DeletedAuthorPolicy, Jam
from jamhost.networks.post_state import post_network_set
from jamhost.posts.models import AUTHOR_DELETED_REASON, Post, PostStatus
from jamhost.posts.post_moderation import post_restore
from jamhost.posts.services import post_compose
from jamhost.transcripts.models import Transcript
from jamhost.transcripts.services import jam_archive
from tests.factories import MembershipFactory, UserFactory, live_jam
from tests.transcripts.pages import expand, read
from tests.xstate import on_x

pytestmark = pytest.mark.django_db


def _signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _seqs(jam: Jam) -> list[int]:
    return list(Post.objects.filter(jam=jam).order_by("seq").values_list("seq", flat=True))


def _replay(jam: Jam) -> str:
    """The replay with every part loaded, as after scrolling to the end."""
    client = Client()
    html, _ = expand(client, read(client, f"/jams/{jam.slug}/transcript/"))
    return html


def _flash(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_download_holds_every_post_of_the_user_and_no_one_elses() -> None:
    jam, other_jam = live_jam(), live_jam()
    ada, bob = UserFactory(username="ada"), UserFactory()
    mine = [
        post_compose(jam=jam, user=ada, body="first <b>answer</b>"),
        post_compose(jam=other_jam, user=ada, body="second, in another jam ✓"),
    ]
    post_compose(jam=jam, user=bob, body="not ada's")
    response = _signed_in(ada).get("/accounts/me/posts.json")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    export = json.loads(response.content)
    assert export["format"] == "jamhost-posts/1"
    assert export["user"]["username"] == "ada"
    assert [(p["jam"]["slug"], p["seq"], p["body"]) for p in export["posts"]] == [
        (p.jam.slug, p.seq, p.body) for p in mine
    ]


def test_deleting_needs_the_password_and_keeps_everything_when_wrong() -> None:
    jam = live_jam()
    ada = UserFactory()
    post_compose(jam=jam, user=ada, body="still mine")
    response = _signed_in(ada).post("/accounts/me/delete/", {"password": "wrong"})
    assert response.status_code == 400
    assert b"not your password" in response.content
    assert get_user_model().objects.filter(pk=ada.pk).exists()
    assert Post.objects.get(body="still mine").author_id == ada.pk


def test_a_host_cannot_delete_their_account_while_hosting() -> None:
    jam = live_jam()
    response = _signed_in(jam.host).post(
        "/accounts/me/delete/", {"password": "correct-horse-battery"}
    )
    assert response.status_code == 400
    assert b"You host 1 jam" in response.content
    assert get_user_model().objects.filter(pk=jam.host_id).exists()


def test_the_deletion_page_states_the_policy() -> None:
    page = _signed_in(UserFactory()).get("/accounts/me/")
    assert b'id="deletion-policy"' in page.content
    assert b"a deleted user" in page.content
    assert b"<strong>removed</strong>" in page.content
    assert b"You have not posted in any jam." in page.content


def test_the_deletion_page_says_what_happens_in_each_jam_posted_in(
    django_assert_num_queries: Any,
) -> None:
    kept = live_jam(title="Keeps posts")
    removing = live_jam(title="Removes posts", deleted_author_policy=DeletedAuthorPolicy.REMOVE)
    elsewhere = live_jam(title="Never posted here")
    ada = UserFactory()
    post_compose(jam=kept, user=ada, body="one")
    post_compose(jam=removing, user=ada, body="two")
    post_compose(jam=removing, user=ada, body="three")
    post_compose(jam=elsewhere, user=UserFactory(), body="someone else's")
    client = _signed_in(ada)
    client.get("/accounts/me/")  # the session and user, loaded once
    with django_assert_num_queries(3):  # session, user, the jams posted in
        page = client.get("/accounts/me/").content.decode()
    assert (
        f'<li data-deletion-policy="anonymize"><a href="{kept.get_absolute_url()}">Keeps posts</a>'
        " (1 post): shown as a deleted user</li>"
    ) in page
    assert (
        f'<li data-deletion-policy="remove"><a href="{removing.get_absolute_url()}">'
        "Removes posts</a> (2 posts): removed</li>"
    ) in page
    assert "Never posted here" not in page


@pytest.mark.django_db(transaction=True)
def test_deleting_shows_posts_as_a_deleted_user_everywhere() -> None:
    live, past = live_jam(), live_jam()
    ada = UserFactory(username="ada_lovelace", first_name="Ada")
    MembershipFactory(jam=past, user=ada)
    kept = post_compose(jam=past, user=ada, body="an answer for the record")
    post_compose(jam=live, user=ada, body="a live answer")
    jam_end(jam=past)
    first = jam_archive(jam_id=past.pk)
    assert "ada_lovelace" in first.content

    seqs = {"live": _seqs(live), "past": _seqs(past)}

    client = _signed_in(ada)
    response = client.post("/accounts/me/delete/", {"password": "correct-horse-battery"})
    assert response.status_code == 302
    assert _flash(response) == ["Your account is deleted. 2 posts now show as a deleted user."]
    assert not get_user_model().objects.filter(pk=ada.pk).exists()
    assert {"live": _seqs(live), "past": _seqs(past)} == seqs
    # The old session is signed out.
    assert client.get("/accounts/me/").status_code == 302

    for post in Post.objects.filter(body__in=["an answer for the record", "a live answer"]):
        assert post.author_id is None
        assert (post.author_handle, post.author_name) == ("deleted", "Deleted user")
        assert "ada" not in post.author_key
    # The live room and the replay show the deleted user, not Ada.
    room = Client().get(f"/jams/{live.slug}/live/").content.decode()
    assert "a live answer" in room and "ada_lovelace" not in room and "@deleted" in room
    assert "their posts here are shown as a deleted user" in room
    # The archived transcript is superseded by a new version; the old one is kept.
    versions = list(Transcript.objects.filter(jam=past).order_by("version"))
    assert [t.version for t in versions] == [1, 2]
    assert versions[0].content_hash == first.content_hash
    assert "ada_lovelace" not in versions[1].content
    assert "Deleted user" in versions[1].content
    replay = _replay(past)
    assert "an answer for the record" in replay and "ada_lovelace" not in replay
    assert "their posts here are shown as a deleted user" in replay
    assert Post.objects.get(pk=kept.pk).jam_id == past.pk


@pytest.mark.django_db(transaction=True)
def test_deleting_removes_the_posts_where_the_host_chose_so() -> None:
    live = live_jam(deleted_author_policy=DeletedAuthorPolicy.REMOVE)
    past = live_jam(deleted_author_policy=DeletedAuthorPolicy.REMOVE)
    ada = UserFactory(username="ada_lovelace", first_name="Ada")
    gone = post_compose(jam=past, user=ada, body="my words https://example.com/mine")
    post_compose(jam=past, user=UserFactory(), body="the neighbour answer stays")
    live_post = post_compose(jam=live, user=ada, body="a live answer to remove")
    jam_end(jam=past)
    first = jam_archive(jam_id=past.pk)
    assert "my words" in first.content
    seqs = {"live": _seqs(live), "past": _seqs(past)}

    client = _signed_in(ada)
    response = client.post("/accounts/me/delete/", {"password": "correct-horse-battery"})
    assert response.status_code == 302
    assert _flash(response) == ["Your account is deleted. 2 posts were removed."]

    # The rows stay, so seq numbers stay gap-free; the words and the name are gone.
    assert {"live": _seqs(live), "past": _seqs(past)} == seqs
    assert seqs["past"] == list(range(1, len(seqs["past"]) + 1))
    for post in Post.objects.filter(pk__in=[gone.pk, live_post.pk]):
        assert (post.status, post.status_reason) == (PostStatus.HIDDEN, AUTHOR_DELETED_REASON)
        assert (post.body, post.text, post.links) == ("", "", [])
        assert post.author_id is None
        assert (post.author_handle, post.author_name) == ("deleted", "Deleted user")
    # Viewers no longer see it; the moderators' console keeps a placeholder without the
    # words, which cannot be restored.
    room = Client().get(f"/jams/{live.slug}/live/").content.decode()
    assert "a live answer" not in room and f'id="post-{live_post.pk}"' not in room
    assert "their posts here are removed" in room
    console = _signed_in(live.host).get(f"/jams/{live.slug}/console/").content.decode()
    assert f'id="post-{live_post.pk}"' in console and AUTHOR_DELETED_REASON in console
    assert "a live answer" not in console and 'value="restore"' not in console
    with pytest.raises(ValidationError, match="cannot be shown again"):
        post_restore(jam=live, actor=live.host, post_id=live_post.pk)
    assert Post.objects.get(pk=live_post.pk).status == PostStatus.HIDDEN

    # A new transcript version lacks the post and its words; the old one is kept.
    versions = list(Transcript.objects.filter(jam=past).order_by("version"))
    assert [t.version for t in versions] == [1, 2]
    assert versions[0].content_hash == first.content_hash and "my words" in versions[0].content
    latest = json.loads(versions[1].content)
    assert gone.seq not in [p["seq"] for p in latest["posts"]]
    assert "the neighbour answer stays" in versions[1].content
    for words in ("my words", "example.com/mine", "ada_lovelace", "Deleted user"):
        assert words not in versions[1].content, words
    replay = _replay(past)
    assert "the neighbour answer stays" in replay and "their posts here are removed" in replay
    assert "my words" not in replay and "ada_lovelace" not in replay
    for fmt in ("json", "csv", "md", "html"):
        export = Client().get(f"/jams/{past.slug}/transcript.{fmt}").content.decode()
        assert "the neighbour answer stays" in export, fmt
        assert "my words" not in export and "Deleted user" not in export, fmt


def test_each_jam_follows_its_own_policy() -> None:
    keeping = live_jam()
    removing = live_jam(deleted_author_policy=DeletedAuthorPolicy.REMOVE)
    ada = UserFactory()
    kept = post_compose(jam=keeping, user=ada, body="kept words")
    removed = post_compose(jam=removing, user=ada, body="removed words")
    assert account_delete(user=ada, password="correct-horse-battery") == AccountDeleted(
        anonymized=1, removed=1
    )
    kept.refresh_from_db()
    removed.refresh_from_db()
    assert (kept.status, kept.text, kept.author_name) == (
        PostStatus.VISIBLE,
        f"kept words #{keeping.hashtag}",
        "Deleted user",
    )
    assert (removed.status, removed.body, removed.author_name) == (
        PostStatus.HIDDEN,
        "",
        "Deleted user",
    )


def test_the_message_after_deletion_counts_both_policies() -> None:
    keeping = live_jam()
    removing = live_jam(deleted_author_policy=DeletedAuthorPolicy.REMOVE)
    ada = UserFactory()
    post_compose(jam=keeping, user=ada, body="kept")
    for n in range(3):
        post_compose(jam=removing, user=ada, body=f"removed {n}")
    response = _signed_in(ada).post("/accounts/me/delete/", {"password": "correct-horse-battery"})
    assert _flash(response) == [
        "Your account is deleted. 1 post now shows as a deleted user and 3 posts were removed."
    ]


def test_deleting_recounts_the_upvotes_and_flags_the_user_gave(
    django_capture_on_commit_callbacks: Any,
) -> None:
    jam = live_jam()
    leaver, stayer = UserFactory(), UserFactory()
    question = post_compose(jam=jam, user=UserFactory(), body="What about tests?")
    noise = post_compose(jam=jam, user=UserFactory(), body="cheap watches here")
    for user in (leaver, stayer):
        vote_add(post_id=question.pk, user=user)
        flag_add(post_id=noise.pk, user=user, reason="spam")
    before = {p.pk: p.rev for p in Post.objects.filter(jam=jam)}
    with django_capture_on_commit_callbacks(execute=True) as published:
        account_delete(user=leaver, password="correct-horse-battery")
    question.refresh_from_db()
    noise.refresh_from_db()
    assert question.upvotes == 1 and noise.flags == 1
    # A new rev each, published, so every screen shows the new counts.
    assert question.rev > before[question.pk] and noise.rev > before[noise.pk]
    assert len(published) >= 2
    assert not Vote.objects.filter(user_id=leaver.pk).exists()
    assert not Flag.objects.filter(user_id=leaver.pk).exists()


def test_signup_refuses_handles_that_could_pass_for_someone_else() -> None:
    UserFactory(username="alice")
    for handle in ("Alice", "аlice", "al\u200bice", "alice\u202e", "al ice", "ali/ce"):
        response = Client().post(
            "/accounts/signup/",
            {
                "username": handle,
                "password1": "a-long-passphrase-9",
                "password2": "a-long-passphrase-9",
            },
        )
        assert response.status_code == 200, handle
        assert b'class="errorlist' in response.content, handle
    assert get_user_model().objects.filter(username__iexact="alice").count() == 1


def test_display_names_lose_invisible_and_direction_characters() -> None:
    response = Client().post(
        "/accounts/signup/",
        {
            "username": "mallory",
            "first_name": "\u202eecila\u202c \u200b@alice\u2066",
            "password1": "a-long-passphrase-9",
            "password2": "a-long-passphrase-9",
        },
    )
    assert response.status_code == 302
    user = get_user_model().objects.get(username="mallory")
    assert user.first_name == "ecila @alice"
    # Wherever a post shows the name, the real handle is shown next to it, isolated.
    jam = live_jam()
    post_compose(jam=jam, user=user, body="hi")
    room = Client().get(f"/jams/{jam.slug}/live/").content.decode()
    assert '<bdi class="name">ecila @alice</bdi> <bdi class="handle">@mallory</bdi>' in room


def test_a_deleted_users_posts_on_x_no_longer_link_to_them(
    django_capture_on_commit_callbacks: Any,
) -> None:
    """A post published on X keeps its status id (so it is never stored twice), but the
    live room and the new transcript no longer link to it: x.com would show the account
    its author deleted here."""
    past = live_jam()
    ada = UserFactory(username="ada_lovelace")
    MembershipFactory(jam=past, user=ada)
    post = post_compose(jam=past, user=ada, body="published on X")
    status_id = "1790000000000000042"
    post_network_set(post.pk, x={"status": "published", "x_id": status_id})
    room = Client().get(f"/jams/{past.slug}/live/").content.decode()
    assert status_id in room
    jam_end(jam=past)
    assert status_id in jam_archive(jam_id=past.pk).content

    with django_capture_on_commit_callbacks(execute=True):
        account_delete(user=ada, password="correct-horse-battery")

    post.refresh_from_db()
    assert on_x(post).x_id == status_id and post.author_deleted
    room = Client().get(f"/jams/{past.slug}/live/").content.decode()
    assert "published on X" in room and status_id not in room
    latest = Transcript.objects.filter(jam=past).order_by("-version").first()
    assert latest is not None and latest.version == 2
    assert "published on X" in latest.content and status_id not in latest.content
    assert status_id not in _replay(past)


def test_a_transcript_the_deletion_outdated_is_superseded_by_the_sweep_if_its_task_is_lost(
    settings: Any,
) -> None:
    """The deletion marks every archived jam it changes — where the user posted, and
    where they voted (the counts are in the transcript) — in its own transaction; here its
    after-commit task never runs (as if the broker was down), and the archive sweep makes
    the new versions and clears the marks."""
    from jamhost.transcripts.tasks import archive_sweep

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    posted, voted, untouched = live_jam(), live_jam(), live_jam()
    ada, asker = UserFactory(username="ada_lovelace"), UserFactory()
    post_compose(jam=posted, user=ada, body="for the record")
    question = post_compose(jam=voted, user=asker, body="What next?")
    vote_add(post_id=question.pk, user=ada)
    for jam in (posted, voted, untouched):
        jam_end(jam=jam)
        jam_archive(jam_id=jam.pk)

    account_delete(user=ada, password="correct-horse-battery")  # on_commit never runs here

    marked = Jam.objects.filter(transcript_outdated=True)
    assert set(marked.values_list("pk", flat=True)) == {posted.pk, voted.pk}
    assert Transcript.objects.filter(jam__in=[posted, voted], version=2).count() == 0
    archive_sweep()
    assert not Jam.objects.filter(transcript_outdated=True).exists()
    latest = {t.jam_id: t for t in Transcript.objects.filter(version=2)}
    assert set(latest) == {posted.pk, voted.pk}
    assert "ada_lovelace" not in latest[posted.pk].content
    assert Transcript.objects.filter(jam=untouched).count() == 1
    archive_sweep()  # nothing left to do: no third version
    assert not Transcript.objects.filter(version=3).exists()
