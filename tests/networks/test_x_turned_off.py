"""A host who runs a jam without X: its posts stay off X (a linked account or not), and
X's search and stream leave the jam alone, while another jam on X goes on as before."""

from __future__ import annotations

import pytest
from django.utils import timezone

from jamhost.networks.ingest import ingest_due, x_window
from jamhost.networks.models import JamNetwork, Network, Publication, XStatus
from jamhost.posts.services import post_compose
from tests.factories import MembershipFactory, UserFactory, live_jam
from tests.networks.conftest import link_x
from tests.xstate import LOCAL, on_x

pytestmark = pytest.mark.django_db


def test_a_jam_without_x_publishes_nothing_to_x_and_is_not_searched(
    x_server, django_capture_on_commit_callbacks
):  # type: ignore[no-untyped-def]
    off, on = live_jam(), live_jam()
    JamNetwork.objects.create(jam=off, network=Network.X, enabled=False)
    panelist = UserFactory()
    MembershipFactory(jam=off, user=panelist)
    MembershipFactory(jam=on, user=panelist)
    account = link_x(x_server, panelist)

    with django_capture_on_commit_callbacks(execute=True):
        kept = post_compose(jam=off, user=panelist, body="Only here")
        sent = post_compose(jam=on, user=panelist, body="Everywhere")
    kept.refresh_from_db()
    sent.refresh_from_db()

    assert on_x(kept).status == LOCAL
    assert not Publication.objects.filter(post=kept).exists()
    assert on_x(sent).status == XStatus.PUBLISHED
    assert [t["text"] for t in x_server.tweets_by(account.x_user_id)] == [sent.text]
    now = timezone.now()
    assert off.pk not in x_window(now=now) and on.pk in x_window(now=now)
    assert off.pk not in ingest_due(now=now) and on.pk in ingest_due(now=now)


def test_turning_x_back_on_sends_new_posts_again(x_server, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    jam = live_jam()
    route = JamNetwork.objects.create(jam=jam, network=Network.X, enabled=False)
    panelist = UserFactory()
    MembershipFactory(jam=jam, user=panelist)
    link_x(x_server, panelist)
    route.enabled = True
    route.save()
    with django_capture_on_commit_callbacks(execute=True):
        post = post_compose(jam=jam, user=panelist, body="Back on X")
    post.refresh_from_db()
    assert on_x(post).status == XStatus.PUBLISHED
