from __future__ import annotations

import pytest
from django.contrib.admin.sites import site
from django.urls import reverse

from jamhost.jams import services
from jamhost.jams.models import Invite, Jam, Membership, Question, Role
from jamhost.posts.models import Post
from tests.factories import UserFactory, live_jam

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
    services.invite_create(jam=jam, role=Role.PANELIST, actor=jam.host)
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
