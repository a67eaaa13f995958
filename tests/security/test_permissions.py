"""Who may do what: every role against every action, over HTTP and over websockets.

ACTIONS is the table the README shows (role x action). Each cell is a test: the action
is tried as that role and the test checks what actually changed (or was shown), and
that a refusal is a 403/404/redirect-to-log-in with nothing changed, never a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from jamhost.accounts.models import GuestPolicy
from jamhost.jams import lifecycle
from jamhost.jams.models import Invite, Jam, Membership, Question
from jamhost.polls.models import Poll, PollVote
from jamhost.polls.services import poll_launch
from jamhost.posts.models import AnswerDraft, Post, PostStatus
from jamhost.posts.services import post_compose
from tests.live.conftest import receive_until_caught_up, socket
from tests.security.conftest import ROLES, Cast, make_cast

EVERYONE = set(ROLES)
SIGNED_IN = EVERYONE - {"anonymous"}
MEMBERS = {"panelist", "moderator", "host", "staff"}
MODERATORS = {"moderator", "host", "staff"}
HOSTS = {"host", "staff"}
STAFF = {"staff"}


def _refused(response: Any) -> bool:
    assert response.status_code < 500, response.content[:300]
    if response.status_code in (403, 404):
        return True
    if response.status_code == 302:
        return "/login/" in response["Location"]
    return False


def _page(path: Callable[[Cast], str]) -> Callable[[Cast, str], bool]:
    def attempt(cast: Cast, role: str) -> bool:
        response = cast.client(role).get(path(cast))
        if _refused(response):
            return False
        assert response.status_code == 200, (response.status_code, response.content[:300])
        return True

    return attempt


def _compose(cast: Cast, role: str) -> bool:
    before = Post.objects.filter(jam=cast.jam).count()
    response = cast.client(role).post(
        f"/jams/{cast.jam.slug}/live/compose/", {"body": "my answer", "question": "none"}
    )
    assert response.status_code in (200, 302), response.status_code
    return Post.objects.filter(jam=cast.jam).count() == before + 1


def _hide(cast: Cast, role: str) -> bool:
    post = post_compose(jam=cast.jam, user=cast.users["participant"], body="hide me")
    response = cast.client(role).post(
        f"/jams/{cast.jam.slug}/console/", {"action": "hide", "post": post.pk, "key": "k1"}
    )
    assert response.status_code < 500
    post.refresh_from_db()
    if post.status == PostStatus.HIDDEN:
        return True
    assert _refused(response), response.status_code
    return False


def _question_add(cast: Cast, role: str) -> bool:
    before = Question.objects.filter(jam=cast.jam).count()
    response = cast.client(role).post(
        f"/jams/{cast.jam.slug}/questions/", {"text": "A new question?", "offset_minutes": 50}
    )
    added = Question.objects.filter(jam=cast.jam).count() == before + 1
    assert added or _refused(response), response.status_code
    return added


def _invite(cast: Cast, role: str) -> bool:
    response = cast.client(role).post(
        f"/jams/{cast.jam.slug}/invites/", {"role": "panelist", "note": "for Ada"}
    )
    made = Invite.objects.filter(jam=cast.jam).exists()
    assert made or _refused(response), response.status_code
    return made


def _release_next(cast: Cast, role: str) -> bool:
    before = cast.jam.current_question_id
    response = cast.client(role).post(f"/jams/{cast.jam.slug}/live/release-next/")
    changed = Jam.objects.get(pk=cast.jam.pk).current_question_id != before
    assert changed or _refused(response), response.status_code
    return changed


def _end(cast: Cast, role: str) -> bool:
    response = cast.client(role).post(f"/jams/{cast.jam.slug}/live/end/")
    ended = Jam.objects.get(pk=cast.jam.pk).status != "live"
    assert ended or _refused(response), response.status_code
    return ended


def _member_remove(cast: Cast, role: str) -> bool:
    panelist = cast.users["panelist"]
    response = cast.client(role).post(f"/jams/{cast.jam.slug}/members/{panelist.pk}/remove/")
    removed = not Membership.objects.filter(jam=cast.jam, user=panelist).exists()
    assert removed or _refused(response), response.status_code
    return removed


def _embed_sites(cast: Cast, role: str) -> bool:
    response = cast.client(role).post(
        f"/jams/{cast.jam.slug}/embed/setup/", {"origins": "https://news.example.org"}
    )
    changed = Jam.objects.get(pk=cast.jam.pk).embed_origins == ["https://news.example.org"]
    assert changed or _refused(response), response.status_code
    return changed


def _draft(cast: Cast, role: str) -> bool:
    question = cast.jam.questions.get(number=3)
    response = cast.client(role).post(
        f"/jams/{cast.jam.slug}/drafts/", {"question": question.pk, "body": "ready early"}
    )
    made = AnswerDraft.objects.filter(question=question).exists()
    assert made or _refused(response), response.status_code
    return made


def _guests_on(cast: Cast, role: str) -> bool:
    response = cast.client(role).post(f"/jams/{cast.jam.slug}/guests/", {"enabled": "on"})
    on = GuestPolicy.objects.filter(jam=cast.jam, enabled=True).exists()
    assert on or _refused(response), response.status_code
    return on


def _thank_you(cast: Cast, role: str) -> bool:
    lifecycle.jam_end(jam=cast.jam)
    response = cast.client(role).post(f"/jams/{cast.jam.slug}/recap/thank-you/")
    posted = Post.objects.filter(jam=cast.jam, client_key=f"recap:{cast.jam.pk}").exists()
    assert posted or _refused(response), response.status_code
    return posted


def _admin(cast: Cast, role: str) -> bool:
    response = cast.client(role).get("/admin/")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def _download(cast: Cast, role: str) -> bool:
    response = cast.client(role).get("/accounts/me/posts.json")
    if _refused(response):
        return False
    assert response["Content-Type"] == "application/json"
    return True


async def _live_socket(cast: Cast, role: str) -> bool:
    ws = socket(f"/ws/jams/{cast.jam.slug}/live/?after=0", cast.user(role))
    connected, _ = await ws.connect()
    if connected:
        await receive_until_caught_up(ws)
    await ws.disconnect()
    return connected


async def _console_socket(cast: Cast, role: str) -> bool:
    ws = socket(f"/ws/jams/{cast.jam.slug}/console/?after=0", cast.user(role))
    connected, code = await ws.connect()
    if not connected:
        assert code == 4403
        return False
    await receive_until_caught_up(ws)
    await ws.disconnect()
    return True


def _poll_vote(cast: Cast, role: str) -> bool:
    poll = poll_launch(
        jam=cast.jam, user=cast.jam.host, text="Well?", options=["Yes", "No"], open_minutes=5
    )
    response = cast.client(role).post(
        f"/jams/{cast.jam.slug}/polls/{poll.pk}/vote/", {"option": "1"}
    )
    assert response.status_code < 500
    if PollVote.objects.filter(poll=poll).exists():
        return True
    assert _refused(response), response.status_code
    return False


def _poll_launch(cast: Cast, role: str) -> bool:
    response = cast.client(role).post(
        f"/jams/{cast.jam.slug}/polls/launch/",
        {"text": "Now?", "option": ["Yes", "No"], "minutes": "5"},
    )
    assert response.status_code < 500
    if Poll.objects.filter(jam=cast.jam, text="Now?").exists():
        return True
    assert _refused(response), response.status_code
    return False


def _poll_add(cast: Cast, role: str) -> bool:
    response = cast.client(role).post(
        f"/jams/{cast.jam.slug}/polls/add/",
        {"text": "Later?", "option": ["Yes", "No"], "minutes": "5", "offset": "40"},
    )
    assert response.status_code < 500
    if Poll.objects.filter(jam=cast.jam, text="Later?").exists():
        return True
    assert _refused(response), response.status_code
    return False


@dataclass(frozen=True)
class Action:
    name: str
    allowed: frozenset[str]
    attempt: Callable[[Cast, str], Any]
    over: str = "HTTP"


ACTIONS = [
    Action(
        "read a scheduled or live jam", frozenset(EVERYONE), _page(lambda c: f"/jams/{c.jam.slug}/")
    ),
    Action("read a draft jam", frozenset(MEMBERS), _page(lambda c: f"/jams/{c.draft.slug}/")),
    Action(
        "watch the live room", frozenset(EVERYONE), _page(lambda c: f"/jams/{c.jam.slug}/live/")
    ),
    Action(
        "watch the embed of a jam",
        frozenset(EVERYONE),
        _page(lambda c: f"/jams/{c.jam.slug}/embed/"),
    ),
    Action("post from the compose box", frozenset(SIGNED_IN), _compose),
    Action(
        "open the moderator console",
        frozenset(MODERATORS),
        _page(lambda c: f"/jams/{c.jam.slug}/console/"),
    ),
    Action("hide a post", frozenset(MODERATORS), _hide),
    Action("vote in a poll", frozenset(SIGNED_IN), _poll_vote),
    Action("launch a poll", frozenset(MODERATORS), _poll_launch),
    Action("add a poll to the run-sheet", frozenset(MODERATORS), _poll_add),
    Action("edit the jam", frozenset(HOSTS), _page(lambda c: f"/jams/{c.jam.slug}/edit/")),
    Action("add a question", frozenset(HOSTS), _question_add),
    Action("invite a panelist or moderator", frozenset(HOSTS), _invite),
    Action("release the next question", frozenset(HOSTS), _release_next),
    Action("end the jam", frozenset(HOSTS), _end),
    Action("remove a member", frozenset(HOSTS), _member_remove),
    Action("choose the sites that may embed the jam", frozenset(HOSTS), _embed_sites),
    Action("draft answers ahead", frozenset({"panelist", "host"}), _draft),
    Action(
        "see who has drafted answers",
        frozenset(HOSTS),
        _page(lambda c: f"/jams/{c.jam.slug}/drafts/overview/"),
    ),
    Action("let guests post", frozenset(HOSTS), _guests_on),
    Action("publish the recap's thank-you post", frozenset({"host"}), _thank_you),
    Action("use the admin", frozenset(STAFF), _admin),
    Action("download one's own posts", frozenset(SIGNED_IN), _download),
    Action("open the viewer socket", frozenset(EVERYONE), _live_socket, "websocket"),
    Action("open the console socket", frozenset(MODERATORS), _console_socket, "websocket"),
]


HTTP_ACTIONS = [a for a in ACTIONS if a.over == "HTTP"]
SOCKET_ACTIONS = [a for a in ACTIONS if a.over == "websocket"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", HTTP_ACTIONS, ids=[a.name for a in HTTP_ACTIONS])
def test_over_http(action: Action, role: str, cast: Cast) -> None:
    assert action.attempt(cast, role) == (role in action.allowed)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", SOCKET_ACTIONS, ids=[a.name for a in SOCKET_ACTIONS])
async def test_over_websocket(action: Action, role: str, hub: Any) -> None:
    from asgiref.sync import sync_to_async

    cast = await sync_to_async(make_cast)()
    assert await action.attempt(cast, role) == (role in action.allowed)


def table() -> str:
    """The README's role x action table, from ACTIONS."""
    lines = ["| action | over | " + " | ".join(ROLES) + " |", "|---|---|" + "---|" * len(ROLES)]
    for action in ACTIONS:
        cells = ["yes" if role in action.allowed else "—" for role in ROLES]
        lines.append(f"| {action.name} | {action.over} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
