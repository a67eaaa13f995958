"""The limit that binds (jamhost.networks.text_rules, through the core hook every compose
path calls): X's rule whenever the jam runs on X, each other network the post goes to,
the jam's routes when the author goes nowhere, the local limit on no network at all."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from jamhost.core import hooks
from jamhost.jams.run_sheet import question_add
from jamhost.networks.jam_networks import jam_networks_set
from jamhost.networks.models import JamNetwork, MastodonApp, Network
from jamhost.posts.compose import compose_text, text_rules_for
from jamhost.posts.models import Post
from jamhost.posts.services import post_compose
from tests.factories import MembershipFactory, UserFactory, live_jam
from tests.networks.jam_routes import MASTO, linked, route

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _networks_on(settings):  # type: ignore[no-untyped-def]
    settings.X_CLIENT_ID = "client"
    settings.BLUESKY_ENABLED = True
    settings.MASTODON_ENABLED = True


def _x_off(jam: Any) -> None:
    JamNetwork.objects.create(jam=jam, network=Network.X, enabled=False)


def _body(jam: Any, length: int) -> str:
    """A body whose published text (" #tag" added) is `length` characters of ASCII."""
    return "x" * (length - len(f" #{jam.hashtag}"))


def _panelist(jam: Any, name: str) -> Any:
    user = UserFactory(username=name)
    MembershipFactory(jam=jam, user=user)
    return user


def _refusal(**post: Any) -> str:
    with pytest.raises(ValidationError) as refused:
        post_compose(**post)
    return " ".join(refused.value.messages)


def test_an_x_off_jam_is_held_to_bluesky_where_the_author_posts():  # type: ignore[no-untyped-def]
    jam = live_jam()
    _x_off(jam)
    route(jam, Network.BLUESKY)
    ann = _panelist(jam, "ann")
    linked(ann, Network.BLUESKY)
    assert [r.network for r in text_rules_for(jam=jam, user=ann)] == ["bluesky"]

    # 290 characters: over X's 280, and X does not apply.
    post = post_compose(jam=jam, user=ann, body=_body(jam, 290), question_number=None)
    assert len(post.text) == 290
    stored = Post.objects.count()
    # 301 graphemes (an emoji family is one): refused, naming Bluesky.
    body = "👩‍👩‍👧" * 11 + _body(jam, 290)
    assert _refusal(jam=jam, user=ann, body=body, question_number=None) == (
        "Your post is 301 graphemes as Bluesky counts them, over its limit of 300. Shorten it by 1."
    )
    assert Post.objects.count() == stored


def test_an_x_on_jam_still_refuses_281_as_x_counts_them():  # type: ignore[no-untyped-def]
    jam = live_jam()
    route(jam, Network.BLUESKY)
    al, bo = _panelist(jam, "al"), _panelist(jam, "bo")
    linked(bo, Network.BLUESKY)
    # Al posts nowhere else: X's limit is the only one, and refuses.
    assert [r.network for r in text_rules_for(jam=jam, user=al)] == ["x"]
    assert _refusal(jam=jam, user=al, body=_body(jam, 281), question_number=None) == (
        "This post is 281 characters as X counts them, over the limit of 280. Shorten it by 1."
    )
    post_compose(jam=jam, user=al, body=_body(jam, 280), question_number=None)
    # Bo's posts go to Bluesky too: 281 fits there, so the post is taken.
    assert [r.network for r in text_rules_for(jam=jam, user=bo)] == ["x", "bluesky"]
    post_compose(jam=jam, user=bo, body=_body(jam, 281), question_number=None)
    # Over both: refused, naming Bluesky (the most room).
    assert "as Bluesky counts them" in _refusal(
        jam=jam, user=bo, body=_body(jam, 301), question_number=None
    )


def test_a_mastodon_instance_of_100_characters_binds():  # type: ignore[no-untyped-def]
    jam = live_jam()
    route(jam, Network.BLUESKY)
    route(jam, Network.MASTODON)
    MastodonApp.objects.create(
        service=MASTO, client_id="c", client_secret="s", redirect_uri=MASTO, max_characters=100
    )
    cy = _panelist(jam, "cy")
    linked(cy, Network.BLUESKY)
    linked(cy, Network.MASTODON)
    rules = text_rules_for(jam=jam, user=cy)
    assert [(r.network, r.label, r.limit) for r in rules] == [
        ("x", "X", 280),
        ("bluesky", "Bluesky", 300),
        ("mastodon", "Mastodon (mastodon.example)", 100),
    ]
    composed = compose_text(
        body=_body(jam, 101), hashtag=jam.hashtag, question_number=None, rules=rules
    )
    assert composed.binding.rule.label == "Mastodon (mastodon.example)"
    assert [c.rule.network for c in composed.too_long_for] == ["mastodon"]
    # Too long for the instance only: taken (it goes to X and Bluesky; delivery fails the
    # instance with its reason).
    post_compose(jam=jam, user=cy, body=_body(jam, 101), question_number=None)


def test_an_x_off_jam_without_a_linked_account_is_held_to_its_routes():  # type: ignore[no-untyped-def]
    jam = live_jam()
    _x_off(jam)
    route(jam, Network.BLUESKY, hashtag="SkyChat")
    route(jam, Network.MASTODON)
    route(jam, Network.MASTODON, service="https://off.example", enabled=False)
    dee = _panelist(jam, "dee")
    rules = text_rules_for(jam=jam, user=dee)
    assert [(r.network, r.hashtag, r.limit) for r in rules] == [
        ("bluesky", "SkyChat", 300),
        ("mastodon", jam.hashtag, 500),  # the instance's rules not read yet
    ]
    # Counted with Bluesky's own hashtag: " #SkyChat" there.
    body = "y" * (300 - len(" #SkyChat"))
    post_compose(jam=jam, user=dee, body=body, question_number=None)
    # One over Bluesky still fits the instance: taken. Over both: refused.
    post_compose(jam=jam, user=dee, body=body + "y", question_number=None)
    assert "as Mastodon (mastodon.example) counts them" in _refusal(
        jam=jam, user=dee, body="y" * 500, question_number=None
    )
    # Once dee posts to Mastodon only, Bluesky no longer applies to dee's posts.
    linked(dee, Network.MASTODON)
    assert [r.network for r in text_rules_for(jam=jam, user=dee)] == ["mastodon"]
    post_compose(jam=jam, user=dee, body=body + "y" * 20, question_number=None)


def test_a_revoked_account_does_not_count_as_going_there():  # type: ignore[no-untyped-def]
    jam = live_jam()
    route(jam, Network.BLUESKY)
    bob = UserFactory(username="bob")
    assert [r.network for r in hooks.collect_text_rules(jam, bob)] == ["x"]
    account = linked(bob, Network.BLUESKY)
    assert [r.network for r in hooks.collect_text_rules(jam, bob)] == ["x", "bluesky"]
    account.revoked_at = timezone.now()
    account.save()
    assert [r.network for r in hooks.collect_text_rules(jam, bob)] == ["x"]


def test_a_jam_on_no_network_uses_the_local_limit(settings):  # type: ignore[no-untyped-def]
    jam = live_jam()
    _x_off(jam)
    ed = _panelist(jam, "ed")
    assert hooks.collect_text_rules(jam, ed) == []
    assert [(r.network, r.limit) for r in text_rules_for(jam=jam, user=ed)] == [("local", 500)]
    post_compose(jam=jam, user=ed, body=_body(jam, 500), question_number=None)
    assert _refusal(jam=jam, user=ed, body=_body(jam, 501), question_number=None) == (
        "Your post is 501 characters as jamhost counts them, over its limit of 500. "
        "Shorten it by 1."
    )
    # The same on a site that offers no network at all.
    settings.X_CLIENT_ID = ""
    other = live_jam()
    assert [r.network for r in text_rules_for(jam=other, user=ed)] == ["local"]


def test_a_question_with_a_character_x_refuses_is_refused_only_on_x():  # type: ignore[no-untyped-def]
    on_x, off_x = live_jam(), live_jam()
    _x_off(off_x)
    route(off_x, Network.BLUESKY)
    with pytest.raises(ValidationError, match="U\\+FEFF"):
        question_add(jam=on_x, text="Why\ufeff not?", offset_minutes=5)
    question = question_add(jam=off_x, text="Why\ufeff not?", offset_minutes=5)
    assert question.text == "Why\ufeff not?"


def test_the_room_shows_a_counter_per_rule(client):  # type: ignore[no-untyped-def]
    jam = live_jam()
    _x_off(jam)
    route(jam, Network.BLUESKY, hashtag="SkyChat")
    route(jam, Network.MASTODON)
    MastodonApp.objects.create(
        service=MASTO, client_id="c", client_secret="s", redirect_uri=MASTO, max_characters=1000
    )
    ann = UserFactory(username="ann")
    linked(ann, Network.BLUESKY)
    linked(ann, Network.MASTODON, service="https://elsewhere.example")  # any instance counts
    client.force_login(ann)
    page = client.get(reverse("live:room", args=[jam.slug])).content.decode()
    assert '<div class="net-counts" id="compose-networks">' in page
    assert 'data-network="bluesky" data-limit="300" data-unit="graphemes"' in page
    assert "<small>#SkyChat</small>" in page
    # Ann's status goes out from her own instance (its limit unread yet: 500), not the
    # jam's (1000), as the delivery engine sends it.
    assert 'data-network="mastodon" data-limit="500"' in page
    assert "Mastodon (elsewhere.example)" in page
    assert 'data-network="x"' not in page  # X is off for this jam
    assert '<span class="count">0 / 300</span>' in page


def test_the_room_on_x_alone_asks_one_query_for_the_rules_and_none_without_networks(
    client, settings, django_assert_num_queries
):  # type: ignore[no-untyped-def]
    settings.BLUESKY_ENABLED = False
    settings.MASTODON_ENABLED = False
    jam = live_jam()
    fay = UserFactory(username="fay")
    with django_assert_num_queries(1):  # the jam's routes: is X turned off?
        assert [r.network for r in hooks.collect_text_rules(jam, fay)] == ["x"]
    with django_assert_num_queries(0):  # read once per header rev
        assert [r.network for r in hooks.collect_text_rules(jam, fay)] == ["x"]
    settings.X_CLIENT_ID = ""
    with django_assert_num_queries(0):
        assert hooks.collect_text_rules(jam, fay) == []
    client.force_login(fay)
    page = client.get(reverse("live:room", args=[jam.slug])).content.decode()
    assert 'id="compose-networks" hidden' in page and 'data-network="local"' in page


def test_the_server_rendered_counter_marks_the_limit_that_binds(client):  # type: ignore[no-untyped-def]
    jam = live_jam()
    _x_off(jam)
    route(jam, Network.BLUESKY)
    route(jam, Network.MASTODON)
    MastodonApp.objects.create(
        service=MASTO, client_id="c", client_secret="s", redirect_uri=MASTO, max_characters=100
    )
    gil = _panelist(jam, "gil")
    linked(gil, Network.BLUESKY)
    linked(gil, Network.MASTODON)
    client.force_login(gil)
    url = reverse("live:preview", args=[jam.slug])
    short = client.post(url, {"body": "Hi", "question": "none"}).content.decode()
    hi = len(f"Hi #{jam.hashtag}")
    assert f"{hi} / 100" in short and "compose-count over" not in short
    assert (
        '<li data-network="mastodon" class="binding">'
        '<span class="net-badge net-mastodon">Mastodon (mastodon.example)</span> '
        f'<span class="net-count">{hi} / 100 (the limit that binds)</span>'
    ) in short
    link = "See https://example.com/" + "p" * 280
    long = client.post(url, {"body": link, "question": "none"}).content.decode()
    length = len(f"{link} #{jam.hashtag}")
    assert "compose-count over" in long
    assert f"{length} / 300 — {length - 300} over" in long
    assert '<li data-network="bluesky" class="binding over">' in long


def test_the_host_turning_x_off_changes_the_limit_at_once():  # type: ignore[no-untyped-def]
    jam = live_jam()
    hal = _panelist(jam, "hal")
    assert "as X counts them" in _refusal(
        jam=jam, user=hal, body=_body(jam, 300), question_number=None
    )
    jam_networks_set(jam=jam, actor=jam.host, x_enabled=False, routes=[])
    jam.refresh_from_db()
    assert [r.network for r in text_rules_for(jam=jam, user=hal)] == ["local"]
    post_compose(jam=jam, user=hal, body=_body(jam, 300), question_number=None)
    jam_networks_set(jam=jam, actor=jam.host, x_enabled=True, routes=[])
    jam.refresh_from_db()
    assert [r.network for r in text_rules_for(jam=jam, user=hal)] == ["x"]


def test_a_mastodon_post_is_held_to_the_instance_it_goes_out_from():  # type: ignore[no-untyped-def]
    jam = live_jam()
    _x_off(jam)
    route(jam, Network.MASTODON)
    far = "https://far.example"
    for service, limit in ((MASTO, 1000), (far, 200)):
        MastodonApp.objects.create(
            service=service,
            client_id="c",
            client_secret="s",
            redirect_uri=service,
            max_characters=limit,
        )
    both, away = UserFactory(username="both"), UserFactory(username="away")
    linked(both, Network.MASTODON, service=far)
    linked(both, Network.MASTODON, service=MASTO)
    linked(away, Network.MASTODON, service=far)

    # An account on the jam's instance posts there; otherwise the person's own instance.
    assert [r.limit for r in hooks.collect_text_rules(jam, both)] == [1000]
    assert [r.limit for r in hooks.collect_text_rules(jam, away)] == [200]
    with pytest.raises(ValidationError, match="over its limit of 200"):
        post_compose(jam=jam, user=away, body="x " * 150)
