"""The live room page, the compose box over HTTP, the live counter and host controls."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from jamhost.jams.models import JamStatus, Role
from jamhost.posts.models import Post
from tests.factories import JamFactory, MembershipFactory, UserFactory, live_jam

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def test_anyone_may_watch_without_an_account(client) -> None:  # type: ignore[no-untyped-def]
    jam = live_jam(released=1)
    response = client.get(reverse("live:room", args=[jam.slug]))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-rev="{jam.rev}"' in html
    assert f'ws-connect="/ws/jams/{jam.slug}/live/"' in html
    assert jam.questions.get(number=1).text in html
    assert 'id="compose"' not in html and "to post" in html


def test_room_page_query_count_does_not_grow_with_posts(
    client, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    from jamhost.posts.services import post_compose

    jam = live_jam()
    user = UserFactory()
    for i in range(30):
        post_compose(jam=jam, user=user, body=f"post {i}")
    with django_assert_max_num_queries(8):
        response = client.get(reverse("live:room", args=[jam.slug]))
    assert response.content.decode().count('class="post ') == 31


def test_signed_in_user_gets_the_compose_box(client) -> None:  # type: ignore[no-untyped-def]
    jam = live_jam()
    client.force_login(UserFactory())
    html = client.get(reverse("live:room", args=[jam.slug])).content.decode()
    assert 'id="compose"' in html and f"#{jam.hashtag}" in html


def test_compose_stores_the_post_before_answering(client) -> None:  # type: ignore[no-untyped-def]
    jam = live_jam(released=1)
    panelist = MembershipFactory(jam=jam, role=Role.PANELIST).user
    client.force_login(panelist)
    response = client.post(
        reverse("live:compose", args=[jam.slug]),
        {"body": "My answer", "question": "auto", "client_key": "abc"},
        **HTMX,
    )
    assert response.status_code == 200 and "Posted." in response.content.decode()
    post = Post.objects.get(jam=jam, client_key="abc")
    assert post.text == f"A1: My answer #{jam.hashtag}"


def test_compose_errors_come_back_in_the_form(client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.X_CLIENT_ID = "client"  # the jam runs on X: X's limit applies
    jam = live_jam()
    client.force_login(UserFactory())
    url = reverse("live:compose", args=[jam.slug])
    response = client.post(url, {"body": "x" * 300, "question": "none"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "over the limit of 280" in html and 'aria-invalid="true"' in html
    response = client.post(url, {"body": "hi", "question": "banana"}, **HTMX)
    assert "Pick a question" in response.content.decode()
    response = client.post(url, {"body": "hi", "question": "9"}, **HTMX)
    assert "no Q9" in response.content.decode()
    assert not Post.objects.filter(jam=jam, kind="post").exists()


def test_compose_without_htmx_redirects_with_a_message(client) -> None:  # type: ignore[no-untyped-def]
    jam = JamFactory(status=JamStatus.ENDED)
    client.force_login(UserFactory())
    response = client.post(reverse("live:compose", args=[jam.slug]), {"body": "late"}, follow=True)
    assert response.status_code == 200
    assert "not live" in response.content.decode()


def test_anonymous_compose_goes_to_log_in_and_back_to_the_room(client) -> None:  # type: ignore[no-untyped-def]
    jam = live_jam()
    response = client.post(reverse("live:compose", args=[jam.slug]), {"body": "hi"})
    assert response.status_code == 302
    assert response["Location"].endswith("?next=" + reverse("live:room", args=[jam.slug]))
    assert not Post.objects.filter(jam=jam, body="hi").exists()


def test_preview_counts_like_x_with_prefix_and_hashtag(client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.X_CLIENT_ID = "client"  # the jam runs on X: X's limit applies
    jam = live_jam(released=2)
    panelist = MembershipFactory(jam=jam, role=Role.PANELIST).user
    client.force_login(panelist)
    url = reverse("live:preview", args=[jam.slug])
    html = client.post(
        url, {"body": "日本 https://example.com/x", "question": "auto"}
    ).content.decode()
    text = f"A2: 日本 https://example.com/x #{jam.hashtag}"
    assert text in html
    assert f"{4 + 4 + 1 + 23 + 2 + len(jam.hashtag)} / 280" in html
    over = client.post(url, {"body": "z" * 290, "question": "none"}).content.decode()
    assert "over" in over and "compose-count over" in over


def test_only_the_host_controls_the_hour(client) -> None:  # type: ignore[no-untyped-def]
    jam = live_jam(questions=3, released=1)
    url = reverse("live:release_next", args=[jam.slug])
    for user in (UserFactory(), MembershipFactory(jam=jam, role=Role.MODERATOR).user):
        client.force_login(user)
        assert client.post(url).status_code == 403
    client.force_login(jam.host)
    client.post(url)
    jam.refresh_from_db()
    assert jam.current_question.number == 2
    client.post(reverse("live:extend", args=[jam.slug]), {"minutes": "15"})
    jam.refresh_from_db()
    assert jam.duration_minutes == 75
    response = client.post(
        reverse("live:extend", args=[jam.slug]), {"minutes": "lots"}, follow=True
    )
    assert "whole minutes" in response.content.decode()
    client.post(reverse("live:end", args=[jam.slug]))
    jam.refresh_from_db()
    assert jam.status == JamStatus.ENDED
    response = client.post(reverse("live:release_next", args=[jam.slug]), follow=True)
    assert response.status_code == 200 and "only while the jam is live" in response.content.decode()


def test_unknown_jam_is_a_plain_404(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/jams/nope/live/")
    assert response.status_code == 404 and b"Traceback" not in response.content


def test_a_draft_jams_room_is_hidden_from_outsiders(client) -> None:  # type: ignore[no-untyped-def]
    jam = JamFactory(status=JamStatus.DRAFT)
    assert client.get(reverse("live:room", args=[jam.slug])).status_code == 404
    client.force_login(UserFactory())
    assert client.get(reverse("live:room", args=[jam.slug])).status_code == 404
    client.force_login(jam.host)
    assert client.get(reverse("live:room", args=[jam.slug])).status_code == 200


def test_a_resent_form_returns_the_stored_post_and_says_so(client) -> None:  # type: ignore[no-untyped-def]
    """A resend after a timeout (same client key) is never a second post, even once the
    jam has ended, and the box tells the person their post is already in."""
    jam = live_jam()
    panelist = UserFactory()
    MembershipFactory(jam=jam, user=panelist, role=Role.PANELIST)
    client.force_login(panelist)
    url = reverse("live:compose", args=[jam.slug])
    form = {"body": "Sent once", "question": "auto", "client_key": "k-1"}
    first = client.post(url, form, HTTP_HX_REQUEST="true")
    assert b"Posted." in first.content
    jam.status = JamStatus.ENDED
    jam.save(update_fields=["status"])
    again = client.post(url, form, HTTP_HX_REQUEST="true")
    assert again.status_code == 200
    assert b"Already posted" in again.content
    assert Post.objects.filter(jam=jam, body="Sent once").count() == 1
    # Without htmx, the room says it too.
    page = client.post(url, form, follow=True)
    assert b"Already posted" in page.content


def test_the_room_counts_in_the_browser_without_a_request_per_keystroke(client) -> None:  # type: ignore[no-untyped-def]
    jam = live_jam()
    client.force_login(UserFactory())
    page = client.get(reverse("live:room", args=[jam.slug])).content.decode()
    assert "vendor/twitter-text-3.1.0.min.js" in page and "js/compose-count.js" in page
    assert reverse("live:preview", args=[jam.slug]) not in page  # no hx-post per keystroke
    assert f'data-hashtag="{jam.hashtag}"' in page


def test_the_room_carries_what_each_status_shows_so_it_can_change_live(client) -> None:  # type: ignore[no-untyped-def]
    """Before the start the compose box and the host's live controls are there already
    (shown by status, live.js keeps data-jam-status in step with the header), so the jam
    going live or ending changes the room without a reload."""
    jam = JamFactory(status=JamStatus.SCHEDULED)
    client.force_login(jam.host)
    html = client.get(reverse("live:room", args=[jam.slug])).content.decode()
    assert 'data-jam-status="scheduled"' in html and 'id="compose"' in html
    assert 'data-show-when="scheduled">' in html and "Start now" in html
    end = html[html.index(reverse("live:end", args=[jam.slug])) - 200 :]
    assert 'data-show-when="live" data-confirm="End the jam now, for everyone?' in end
    assert "data-confirm-early" in html  # releasing the next question early asks first
    assert "posting is closed" in html


def test_an_ended_jam_says_so_and_links_the_replay_once_archived(client) -> None:  # type: ignore[no-untyped-def]
    from jamhost.jams.lifecycle import jam_end
    from jamhost.transcripts.services import jam_archive

    jam = live_jam()
    jam_end(jam=jam, now=jam.went_live_at + timedelta(minutes=25))
    jam.refresh_from_db()  # ended; the archive runs after commit (not in this test's transaction)
    assert jam.status == JamStatus.ENDED
    html = client.get(reverse("live:room", args=[jam.slug])).content.decode()
    assert "This jam has ended after 25 minutes." in html
    assert "transcript is being archived" in html and 'id="compose"' not in html
    assert reverse("transcripts:replay", args=[jam.slug]) not in html
    jam_archive(jam_id=jam.pk)
    html = client.get(reverse("live:room", args=[jam.slug])).content.decode()
    assert f'href="{reverse("transcripts:replay", args=[jam.slug])}"' in html


def test_release_next_releases_the_question_the_countdown_shows(client) -> None:  # type: ignore[no-untyped-def]
    from jamhost.jams.run_sheet import question_add

    jam = live_jam(questions=2, released=1)  # Q2 at +40
    added = question_add(jam=jam, text="Added live, due first?", offset_minutes=35)
    client.force_login(jam.host)
    client.post(reverse("live:release_next", args=[jam.slug]))
    jam.refresh_from_db()
    assert jam.current_question == added


def test_an_extension_into_another_jams_reservation_is_refused_in_the_hosts_zone(client) -> None:  # type: ignore[no-untyped-def]
    jam = live_jam()  # started 5 minutes ago, ends in 55
    JamFactory(
        title="Next one",
        hashtag=jam.hashtag,
        hashtag_key=jam.hashtag_key,
        status=JamStatus.SCHEDULED,
        starts_at=jam.ends_at + timedelta(minutes=35),
    )
    client.force_login(jam.host)
    url = reverse("live:extend", args=[jam.slug])
    page = client.post(url, {"minutes": "10", "time_zone": "Asia/Tokyo"}, follow=True)
    assert "is reserved by “Next one”" in page.content.decode()
    assert "(Asia/Tokyo)" in page.content.decode()
    jam.refresh_from_db()
    assert jam.duration_minutes == 60
    client.post(url, {"minutes": "5", "time_zone": "nowhere/../etc"})
    jam.refresh_from_db()
    assert jam.duration_minutes == 65  # 5 minutes fit; a zone it cannot read is no error
