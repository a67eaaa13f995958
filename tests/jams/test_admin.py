from __future__ import annotations

from html.parser import HTMLParser

import pytest
from channels.db import database_sync_to_async
from django.contrib.admin.sites import site
from django.urls import reverse

from jamhost.jams import people
from jamhost.jams.models import Invite, Jam, Membership, Question, Role
from jamhost.posts.models import AuditEntry, Post
from tests.factories import MembershipFactory, UserFactory, live_jam
from tests.live.conftest import hub, receive_until_caught_up, socket  # noqa: F401 (hub: a fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):  # type: ignore[no-untyped-def]
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize("model", [Jam, Question, Membership, Invite, Post])
def test_every_model_has_an_admin(model) -> None:  # type: ignore[no-untyped-def]
    assert model in site._registry


@pytest.mark.parametrize("model", [Jam, Question, Membership, Invite, Post])
def test_admin_lists_search_and_opens(admin_client, model) -> None:  # type: ignore[no-untyped-def]
    jam = live_jam(questions=2, released=1)
    people.invite_create(jam=jam, role=Role.PANELIST, actor=jam.host)
    meta = model._meta
    changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
    assert admin_client.get(changelist).status_code == 200
    assert admin_client.get(changelist, {"q": jam.hashtag}).status_code == 200
    obj = model.objects.first()
    change = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
    assert admin_client.get(change).status_code == 200


def test_jam_counters_are_read_only(admin_client) -> None:  # type: ignore[no-untyped-def]
    jam = live_jam(questions=2, released=1)
    url = reverse("admin:jams_jam_change", args=[jam.pk])
    html = admin_client.get(url).content.decode()
    for field in ("last_seq", "rev", "header_rev", "hashtag", "status"):
        assert f'name="{field}"' not in html
    assert 'name="title"' in html
    assert admin_client.get(reverse("admin:jams_jam_add")).status_code == 403


def test_the_moderation_rules_are_read_only_in_the_admin(admin_client) -> None:  # type: ignore[no-untyped-def]
    """Mode and muted words change on the console (audited, with a rev, pushed live): the
    jam's admin page shows them, and a saved form leaves them, the rev and the log alone."""
    jam = live_jam(questions=1, released=1)
    jam.muted_words = "spoiler"
    jam.save(update_fields=["muted_words"])
    url = reverse("admin:jams_jam_change", args=[jam.pk])
    form = _form_values(admin_client, url)
    assert "moderation_mode" not in form and "muted_words" not in form
    assert "spoiler" in admin_client.get(url).content.decode()
    rev = Jam.objects.get(pk=jam.pk).rev
    form.update(moderation_mode="pre", muted_words="other", title="Renamed")
    answer = admin_client.post(url, form)
    assert answer.status_code == 302, answer.content[:2000]
    jam.refresh_from_db()
    assert (jam.title, jam.moderation_mode, jam.muted_words) == ("Renamed", "post", "spoiler")
    assert jam.rev == rev
    assert not AuditEntry.objects.filter(jam_id=jam.pk).exists()


def test_a_released_question_is_read_only_in_the_admin(admin_client) -> None:  # type: ignore[no-untyped-def]
    jam = live_jam(questions=2, released=1)
    q1, q2 = jam.questions.order_by("number")
    assert (
        'name="text"'
        not in admin_client.get(
            reverse("admin:jams_question_change", args=[q1.pk])
        ).content.decode()
    )
    assert (
        'name="text"'
        in admin_client.get(reverse("admin:jams_question_change", args=[q2.pk])).content.decode()
    )


def test_posts_are_view_only(admin_client) -> None:  # type: ignore[no-untyped-def]
    jam = live_jam(questions=1, released=1)
    post = Post.objects.filter(jam=jam).first()
    assert post is not None
    url = reverse("admin:posts_post_change", args=[post.pk])
    response = admin_client.post(url, {"text": "rewritten", "status": "hidden"})
    assert response.status_code == 403
    post.refresh_from_db()
    assert post.text != "rewritten"


# Roles changed in the admin reach open consoles -------------------------------------


class _FormValues(HTMLParser):
    """The values a browser would submit from the admin's change form."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        name = a.get("name") or ""
        if tag == "input" and name and a.get("type") not in ("submit", "checkbox"):
            self.values[name] = a.get("value") or ""
        elif tag == "input" and name and "checked" in a:
            self.values[name] = a.get("value") or "on"
        elif tag == "select" and name:
            self._select = name
            self.values.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = ""

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def _form_values(client, url: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    parser = _FormValues()
    parser.feed(client.get(url).content.decode())
    return parser.values


@database_sync_to_async
def _console_jam():  # type: ignore[no-untyped-def]
    jam = live_jam()
    moderator = MembershipFactory(jam=jam, role=Role.MODERATOR)
    return jam, moderator


async def _open_console(jam: Jam, user: object):  # type: ignore[no-untyped-def]
    console = socket(f"/ws/jams/{jam.slug}/console/?after={jam.rev}", user)
    assert (await console.connect())[0]
    await receive_until_caught_up(console)
    return console


async def _close_code(console) -> int:  # type: ignore[no-untyped-def]
    """How the console was closed, past frames already on their way (presence counts)."""
    for _ in range(20):
        output = await console.receive_output(2)
        if output["type"] == "websocket.close":
            return int(output["code"])
    raise AssertionError("the console was not closed")


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("hub")
async def test_a_moderator_demoted_in_the_admin_is_cut_off(admin_client) -> None:  # type: ignore[no-untyped-def]
    jam, membership = await _console_jam()
    moderator = await database_sync_to_async(lambda: membership.user)()
    console = await _open_console(jam, moderator)
    url = reverse("admin:jams_membership_change", args=[membership.pk])
    form = await database_sync_to_async(_form_values)(admin_client, url)
    form["role"] = Role.PANELIST
    answer = await database_sync_to_async(admin_client.post)(url, form)
    assert answer.status_code == 302, answer.content[:500]
    assert await _close_code(console) == 4403


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("hub")
async def test_moderators_removed_in_bulk_in_the_admin_are_cut_off(admin_client) -> None:  # type: ignore[no-untyped-def]
    jam, membership = await _console_jam()
    moderator = await database_sync_to_async(lambda: membership.user)()
    console = await _open_console(jam, moderator)
    answer = await database_sync_to_async(admin_client.post)(
        reverse("admin:jams_membership_changelist"),
        {"action": "delete_selected", "_selected_action": [membership.pk], "post": "yes"},
    )
    assert answer.status_code == 302
    assert not await database_sync_to_async(Membership.objects.filter(pk=membership.pk).exists)()
    assert await _close_code(console) == 4403


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("hub")
async def test_a_moderator_demoted_on_the_jam_s_admin_page_is_cut_off(admin_client) -> None:  # type: ignore[no-untyped-def]
    jam, membership = await _console_jam()
    moderator = await database_sync_to_async(lambda: membership.user)()
    console = await _open_console(jam, moderator)
    url = reverse("admin:jams_jam_change", args=[jam.pk])
    form = await database_sync_to_async(_form_values)(admin_client, url)
    row = next(
        k[: -len("-id")] for k, v in form.items() if k.endswith("-id") and v == str(membership.pk)
    )
    form[f"{row}-role"] = Role.PANELIST
    answer = await database_sync_to_async(admin_client.post)(url, form)
    assert answer.status_code == 302, answer.content[:2000]
    assert await _close_code(console) == 4403
