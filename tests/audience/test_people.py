"""People to follow and follow-ups."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from jamhost.audience.follows import followup_add, followup_remove
from jamhost.audience.selectors import follow_ups_for, people_to_follow
from jamhost.audience.votes import vote_add
from jamhost.posts.models import Source
from jamhost.posts.services import post_insert
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def test_panelists_first_then_the_most_active_and_upvoted(room, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    quiet_panelist = MembershipFactory(jam=room.jam, role="panelist").user
    room.answer()
    chatty, upvoted = room.others[0], room.others[1]
    for i in range(3):
        room.question(f"Chat {i}.", user=chatty)
    question = room.question("Why?", user=upvoted)
    for voter in (room.others[2], room.others[3], chatty, room.asker):
        vote_add(post_id=question.pk, user=voter)
    post_insert(
        jam=room.jam,
        body="from X",
        text="from X",
        author_role="participant",
        author_key="x:9",
        author_handle="birdy",
        source=Source.X,
        external_id="9",
    )
    with django_assert_num_queries(2):
        people = people_to_follow(jam=room.jam)
    handles = [p.handle for p in people]
    panel = sorted([room.panelist.username, quiet_panelist.username], key=str.lower)
    assert handles[:2] == panel
    # upvoted: 1 post + 4 upvotes; chatty: 3 posts; the host: 1 question release is not a post.
    assert handles[2:4] == [upvoted.username, chatty.username]
    by_handle = {p.handle: p for p in people}
    assert by_handle["birdy"].profile_url == "https://x.com/birdy"
    assert by_handle[chatty.username].profile_url == reverse(
        "audience:person", args=[room.jam.slug, f"app:{chatty.pk}"]
    )


def test_follow_ups_once_each_not_yourself_and_removable(room) -> None:  # type: ignore[no-untyped-def]
    room.answer()
    me = room.others[0]
    key = f"app:{room.panelist.pk}"
    mark, created = followup_add(jam=room.jam, user=me, author_key=key)
    assert created and mark.author_handle == room.panelist.username
    _, created = followup_add(jam=room.jam, user=me, author_key=key)
    assert not created
    room.question("Me?", user=me)
    with pytest.raises(ValidationError, match="That is you"):
        followup_add(jam=room.jam, user=me, author_key=f"app:{me.pk}")
    with pytest.raises(ValidationError, match="Nobody by that name"):
        followup_add(jam=room.jam, user=me, author_key="x:does-not-exist")
    assert [f.author_key for f in follow_ups_for(user=me)] == [key]
    assert followup_remove(jam=room.jam, user=me, author_key=key)
    assert not follow_ups_for(user=me, jam=room.jam).exists()


def test_the_follow_up_list_page_and_its_csv(room, client) -> None:  # type: ignore[no-untyped-def]
    room.answer()
    post_insert(
        jam=room.jam,
        body="hi",
        text="hi",
        author_role="participant",
        author_key="x:5",
        author_handle="xfive",
        author_name="=cmd()",
        source=Source.X,
        external_id="5",
    )
    me = room.others[0]
    followup_add(jam=room.jam, user=me, author_key=f"app:{room.panelist.pk}")
    followup_add(jam=room.jam, user=me, author_key="x:5")
    url = reverse("audience:follow_ups", args=[room.jam.slug])
    assert client.get(url).status_code == 302  # log in first
    client.force_login(me)
    html = client.get(url).content.decode()
    assert "@xfive" in html and "https://x.com/xfive" in html and room.panelist.username in html
    csv_bytes = client.get(url + "?format=csv").content
    assert csv_bytes.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM: Excel reads it right
    csv_text = csv_bytes.decode("utf-8-sig")
    lines = csv_text.strip().splitlines()
    assert lines[0] == "handle,name,profile,marked_at" and len(lines) == 3
    assert "'=cmd()" in csv_text  # never a spreadsheet formula
    assert "http://testserver/jams/" in lines[1]


def test_a_persons_page_in_the_jam(room, client) -> None:  # type: ignore[no-untyped-def]
    room.answer("My answer here.")
    url = reverse("audience:person", args=[room.jam.slug, f"app:{room.panelist.pk}"])
    response = client.get(url)
    assert response.status_code == 200 and "My answer here." in response.content.decode()
    missing = client.get(reverse("audience:person", args=[room.jam.slug, "app:0"]))
    assert missing.status_code == 404


def test_follow_ups_are_in_the_data_download_and_forgotten_with_the_account(room, client) -> None:  # type: ignore[no-untyped-def]
    from jamhost.accounts.services import account_delete
    from jamhost.audience.models import FollowUp

    room.answer()
    me, leaver = room.others[0], room.others[1]
    room.question("Who am I?", user=leaver)
    followup_add(jam=room.jam, user=me, author_key=f"app:{room.panelist.pk}")
    followup_add(jam=room.jam, user=me, author_key=f"app:{leaver.pk}")
    client.force_login(me)
    export = client.get(reverse("account_download")).json()
    assert [f["handle"] for f in export["follow_ups"]] == [room.panelist.username, leaver.username]
    assert export["follow_ups"][0]["jam"] == room.jam.slug

    leaver.set_password("pw-of-the-leaver")
    leaver.save()
    account_delete(user=leaver, password="pw-of-the-leaver")
    # Nobody keeps the deleted person's handle or profile link.
    assert list(FollowUp.objects.values_list("author_key", flat=True)) == [
        f"app:{room.panelist.pk}"
    ]


def test_someone_who_deleted_their_account_is_not_among_the_people_to_follow(room) -> None:  # type: ignore[no-untyped-def]
    from jamhost.accounts.services import account_delete

    leaver = room.others[0]
    for i in range(2):
        room.question(f"Chat {i}.", user=leaver)
    room.question("Still here.", user=room.others[1])
    assert leaver.username in [p.handle for p in people_to_follow(jam=room.jam)]
    account_delete(user=leaver, password="correct-horse-battery")
    people = people_to_follow(jam=room.jam)
    assert [p.handle for p in people if not p.is_panelist] == [room.others[1].username]
    assert not any(p.author_key.startswith("deleted:") for p in people)
