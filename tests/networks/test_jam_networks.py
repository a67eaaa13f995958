"""A jam's networks, as its host picks them: the service's rules and the edit page's
section (networks.jam_networks, networks.jam_network_views)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from jamhost.jams.models import JamStatus, Role
from jamhost.networks.jam_networks import (
    RouteChoice,
    jam_networks_get,
    jam_networks_set,
    mastodon_service_clean,
)
from jamhost.networks.models import JamNetwork, Network
from tests.factories import JamFactory, MembershipFactory, UserFactory
from tests.networks.jam_routes import MASTO, linked, route

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _networks_on(settings):  # type: ignore[no-untyped-def]
    settings.X_CLIENT_ID = "client"
    settings.BLUESKY_ENABLED = True
    settings.MASTODON_ENABLED = True
    settings.MASTODON_INSTANCES = []


@pytest.fixture
def jam():  # type: ignore[no-untyped-def]
    return JamFactory(hashtag="RemoteChat", host=UserFactory(username="hana"))


def messages_of(exc: pytest.ExceptionInfo[ValidationError]) -> str:
    return " ".join(exc.value.messages)


@pytest.mark.parametrize(
    ("typed", "base"),
    [
        ("https://Mastodon.Example/", "https://mastodon.example"),
        (" https://mastodon.example:8443 ", "https://mastodon.example:8443"),
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765"),
        ("http://localhost:3000/", "http://localhost:3000"),
    ],
)
def test_instance_address_is_kept_as_its_base_url(typed, base):  # type: ignore[no-untyped-def]
    assert mastodon_service_clean(typed) == base


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "Enter the Mastodon instance's address"),
        ("mastodon.example", "start it with https://"),
        ("javascript:alert(1)", "start it with https://"),
        ("http://mastodon.example", "Use https:// for mastodon.example"),
        ("https://mastodon.example/@alice", "without a path"),
        ("https://u:p@mastodon.example", "only the instance's address"),
        ("https://mastodon.example:99999", "is not a web address"),
        ("https://mastodon .example", "is not a web address"),
    ],
)
def test_bad_instance_addresses_are_refused_with_a_reason(typed, says):  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as exc:
        mastodon_service_clean(typed)
    assert says in messages_of(exc)


def test_instances_are_restricted_to_the_sites_list(settings):  # type: ignore[no-untyped-def]
    settings.MASTODON_INSTANCES = ["https://mastodon.example/", "https://other.example"]
    assert mastodon_service_clean("https://MASTODON.example") == "https://mastodon.example"
    with pytest.raises(ValidationError) as exc:
        mastodon_service_clean("https://elsewhere.example")
    assert "not one of the Mastodon instances this site works with" in messages_of(exc)
    assert "https://other.example" in messages_of(exc)


def test_host_puts_the_jam_on_bluesky_and_two_instances(jam):  # type: ignore[no-untyped-def]
    cohost = UserFactory(username="cora")
    MembershipFactory(jam=jam, user=cohost, role=Role.HOST)
    sky = linked(jam.host, Network.BLUESKY)
    masto = linked(cohost, Network.MASTODON)
    state = jam_networks_set(
        jam=jam,
        actor=jam.host,
        x_enabled=True,
        routes=[
            RouteChoice(Network.BLUESKY, hashtag="#SkyChat", poster_id=sky.pk),
            RouteChoice(Network.MASTODON, service="https://Mastodon.Example/", poster_id=masto.pk),
            RouteChoice(Network.MASTODON, service="https://other.example", hashtag="remotechat"),
        ],
    )
    assert state.x_enabled
    assert state.bluesky is not None and state.bluesky.hashtag == "SkyChat"
    assert state.bluesky.poster_id == sky.pk
    assert [(r.service, r.hashtag, r.poster_id) for r in state.mastodon] == [
        ("https://mastodon.example", "", masto.pk),
        # The jam's own tag, in any case: stored blank, so it follows the jam's.
        ("https://other.example", "", None),
    ]
    # X on and no X row yet: X runs as before, no row written.
    assert not JamNetwork.objects.filter(jam=jam, network=Network.X).exists()


def test_turning_networks_off_disables_them_and_on_again_reuses_the_row(jam):  # type: ignore[no-untyped-def]
    jam_networks_set(
        jam=jam,
        actor=jam.host,
        x_enabled=True,
        routes=[RouteChoice(Network.BLUESKY), RouteChoice(Network.MASTODON, service=MASTO)],
    )
    sky_row = JamNetwork.objects.get(jam=jam, network=Network.BLUESKY)
    state = jam_networks_set(jam=jam, actor=jam.host, x_enabled=False, routes=[])
    assert not state.x_enabled and state.bluesky is None and state.mastodon == []
    assert JamNetwork.objects.get(jam=jam, network=Network.X).enabled is False
    assert not JamNetwork.objects.get(pk=sky_row.pk).enabled
    state = jam_networks_set(
        jam=jam, actor=jam.host, x_enabled=True, routes=[RouteChoice(Network.BLUESKY)]
    )
    assert state.x_enabled and state.bluesky is not None and state.bluesky.pk == sky_row.pk
    assert JamNetwork.objects.filter(jam=jam).count() == 3  # X, Bluesky, the instance (off)


def test_every_problem_is_named_and_nothing_is_saved(jam):  # type: ignore[no-untyped-def]
    stranger = linked(UserFactory(username="sam"), Network.BLUESKY)
    with pytest.raises(ValidationError) as exc:
        jam_networks_set(
            jam=jam,
            actor=jam.host,
            x_enabled=True,
            routes=[
                RouteChoice(Network.BLUESKY, hashtag="two words", poster_id=stranger.pk),
                RouteChoice(Network.MASTODON, service="ftp://mastodon.example"),
                RouteChoice(Network.MASTODON, service=MASTO, hashtag="#123"),
                RouteChoice(Network.MASTODON, service=MASTO + "/"),
            ],
        )
    said = exc.value.messages
    assert any(m.startswith("Bluesky: A hashtag may only contain") for m in said)
    assert any(m.startswith("Mastodon: ") and "https://" in m for m in said)
    assert any("cannot be only digits" in m and MASTO in m for m in said)
    assert f"Mastodon {MASTO} is listed twice." in said
    assert not JamNetwork.objects.filter(jam=jam).exists()


def test_poster_must_be_a_hosts_unrevoked_account_of_that_network(jam):  # type: ignore[no-untyped-def]
    panelist = UserFactory(username="pat")
    MembershipFactory(jam=jam, user=panelist, role=Role.PANELIST)
    not_a_host = linked(panelist, Network.BLUESKY)
    other_network = linked(jam.host, Network.MASTODON)
    revoked = linked(jam.host, Network.BLUESKY)
    revoked.revoked_at = timezone.now()
    revoked.save()
    for account in (not_a_host, other_network, revoked):
        with pytest.raises(ValidationError) as exc:
            jam_networks_set(
                jam=jam,
                actor=jam.host,
                x_enabled=True,
                routes=[RouteChoice(Network.BLUESKY, poster_id=account.pk)],
            )
        assert "pick one of the host's or co-hosts' Bluesky accounts" in messages_of(exc)


def test_networks_not_offered_by_the_site_are_refused(jam, settings):  # type: ignore[no-untyped-def]
    settings.BLUESKY_ENABLED = False
    settings.MASTODON_ENABLED = False
    with pytest.raises(ValidationError) as exc:
        jam_networks_set(
            jam=jam,
            actor=jam.host,
            x_enabled=True,
            routes=[RouteChoice(Network.BLUESKY), RouteChoice(Network.MASTODON, service=MASTO)],
        )
    assert exc.value.messages == [
        "Bluesky is not available on this site.",
        "Mastodon is not available on this site.",
    ]


def test_only_the_host_changes_them_and_not_once_the_jam_is_over(jam):  # type: ignore[no-untyped-def]
    moderator = UserFactory(username="max")
    MembershipFactory(jam=jam, user=moderator, role=Role.MODERATOR)
    with pytest.raises(ValidationError, match="Only the jam's host"):
        jam_networks_set(jam=jam, actor=moderator, x_enabled=False, routes=[])
    jam.status = JamStatus.ENDED
    jam.save()
    with pytest.raises(ValidationError, match="The jam is over"):
        jam_networks_set(jam=jam, actor=jam.host, x_enabled=False, routes=[])
    assert jam_networks_get(jam=jam).x_enabled


def test_too_many_instances(jam):  # type: ignore[no-untyped-def]
    routes = [RouteChoice(Network.MASTODON, service=f"https://m{i}.example") for i in range(6)]
    with pytest.raises(ValidationError, match="at most 5 Mastodon instances"):
        jam_networks_set(jam=jam, actor=jam.host, x_enabled=True, routes=routes)


# The edit page's section -----------------------------------------------------------------


def test_edit_page_shows_the_section_with_accounts_and_the_no_poster_warning(client, jam):  # type: ignore[no-untyped-def]
    sky = linked(jam.host, Network.BLUESKY)
    route(jam, Network.MASTODON)  # no poster
    client.force_login(jam.host)
    page = client.get(reverse("jams:edit", args=[jam.slug])).content.decode()
    assert 'id="networks"' in page
    assert f'<option value="{sky.pk}">@hana.bsky.social (hana)</option>' in page
    assert f'value="{MASTO}"' in page
    assert f"the questions will not be posted on {MASTO}" in page
    assert 'name="x" checked' in page


def test_saving_from_the_page(client, jam):  # type: ignore[no-untyped-def]
    sky = linked(jam.host, Network.BLUESKY)
    client.force_login(jam.host)
    answer = client.post(
        reverse("networks:jam_networks", args=[jam.slug]),
        {
            "bluesky": "on",
            "bluesky_hashtag": "SkyChat",
            "bluesky_poster": str(sky.pk),
            "mastodon_service": ["https://mastodon.example", ""],
            "mastodon_hashtag": ["", ""],
            "mastodon_poster": ["", ""],
        },
    )
    assert answer.status_code == 302
    assert answer["Location"] == reverse("jams:edit", args=[jam.slug]) + "#networks"
    state = jam_networks_get(jam=jam)
    assert not state.x_enabled  # the box was left unticked
    assert state.bluesky is not None and state.bluesky.poster_id == sky.pk
    assert [r.service for r in state.mastodon] == [MASTO]
    page = client.get(answer["Location"]).content.decode()
    assert "Networks saved." in page
    assert "the questions will not be posted on https://mastodon.example" in page


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"mastodon_service": "http://mastodon.example"}, "Use https:// for mastodon.example"),
        ({"bluesky": "on", "bluesky_poster": "x1"}, "Bluesky: pick an account from the list"),
        ({"bluesky": "on", "bluesky_poster": "9" * 40}, "pick an account from the list"),
        ({"bluesky": "on", "bluesky_poster": "\u00b2"}, "pick an account from the list"),
        ({"bluesky": "on", "bluesky_poster": "12345"}, "pick one of the host"),
        ({"mastodon_service": "https://\x00.example"}, "is not a web address"),
        ({"mastodon_service": "https://[::1"}, "is not a web address"),
        ({"bluesky": "on", "bluesky_hashtag": "#a b"}, "Bluesky: A hashtag may only contain"),
        ({"mastodon_service": ["x" * 5000]}, "is not a web address"),
        ({"mastodon_hashtag": "Tag"}, "Enter the Mastodon instance&#x27;s address"),
    ],
)
def test_bad_input_is_answered_on_the_page_with_the_input_kept(client, jam, fields, says):  # type: ignore[no-untyped-def]
    client.force_login(jam.host)
    answer = client.post(reverse("networks:jam_networks", args=[jam.slug]), fields)
    assert answer.status_code == 400
    page = answer.content.decode()
    assert "The networks were not saved" in page
    assert says in page
    assert not JamNetwork.objects.filter(jam=jam).exists()


def test_people_who_cannot_edit_the_jam_are_refused(client, jam):  # type: ignore[no-untyped-def]
    url = reverse("networks:jam_networks", args=[jam.slug])
    assert client.post(url, {})["Location"].startswith(reverse("login"))
    moderator = UserFactory(username="max")
    MembershipFactory(jam=jam, user=moderator, role=Role.MODERATOR)
    client.force_login(moderator)
    assert client.post(url, {}).status_code == 403
    assert client.get(url).status_code == 405
    assert not JamNetwork.objects.filter(jam=jam).exists()


def test_without_x_configured_x_is_left_alone(jam, settings, client):  # type: ignore[no-untyped-def]
    settings.X_CLIENT_ID = ""
    state = jam_networks_set(
        jam=jam, actor=jam.host, x_enabled=False, routes=[RouteChoice(Network.BLUESKY)]
    )
    assert not state.x_offered and not state.x_enabled
    assert not JamNetwork.objects.filter(jam=jam, network=Network.X).exists()
    client.force_login(jam.host)
    page = client.get(reverse("jams:edit", args=[jam.slug])).content.decode()
    assert "X is not connected on this site." in page and 'name="x"' not in page
