"""jamhost.prepared: reads and inserts compiled once give what the ORM gives, on SQLite and
(with the services) PostgreSQL, and fall back to the ORM wherever they could differ."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.db.models import Value
from django.db.models.signals import pre_save
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jamhost.jams.models import Jam
from jamhost.jams.selectors import jam_by_slug
from jamhost.posts.models import AuthorRole, Block, Post
from jamhost.posts.moderation import author_is_blocked
from jamhost.prepared import Prepared, PreparedInsert, integer, moment, text
from tests.factories import UserFactory, live_jam

pytestmark = pytest.mark.django_db


def _fields(obj: Any) -> dict[str, Any]:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_a_prepared_read_gives_the_querysets_instance() -> None:
    jam = live_jam(muted_words="spam, ham")
    found = jam_by_slug(jam.slug)
    assert found is not None
    assert _fields(found) == _fields(Jam.objects.get(slug=jam.slug))
    assert found._state.db == "default" and not found._state.adding
    # Datetimes come back as the ORM gives them (aware, converted on SQLite).
    assert found.starts_at == jam.starts_at and found.starts_at.tzinfo is not None
    assert jam_by_slug("no-such-jam") is None


def test_a_prepared_read_asks_the_database_every_time(django_assert_num_queries: Any) -> None:
    jam = live_jam()
    with django_assert_num_queries(1):
        assert jam_by_slug(jam.slug) is not None
    Jam.objects.filter(pk=jam.pk).update(title="Renamed")
    with django_assert_num_queries(1):
        assert jam_by_slug(jam.slug).title == "Renamed"  # type: ignore[union-attr]


def test_values_datetimes_and_rows() -> None:
    jam = live_jam()
    read = Prepared(
        lambda slug, after: Jam.objects.filter(slug=slug, starts_at__gt=after).values_list(
            "id", "starts_at"
        )[:1],
        text(0),
        moment(1),
    )
    earlier = jam.starts_at - timedelta(minutes=1)
    assert read.row(jam.slug, earlier) == (jam.pk, jam.starts_at)
    assert read.row(jam.slug, jam.starts_at) is None  # strictly after


def test_author_is_blocked() -> None:
    jam = live_jam()
    assert not author_is_blocked(jam=jam, author_key="app:1")
    Block.objects.create(
        jam=jam, author_key="app:1", author_handle="one", created_at=timezone.now()
    )
    assert author_is_blocked(jam=jam, author_key="app:1")
    assert not author_is_blocked(jam=jam, author_key="app:2")


def test_each_parameter_comes_from_a_stand_in() -> None:
    read: Prepared[Jam] = Prepared(lambda pk: Jam.objects.filter(pk=pk, host_id=pk), integer(0))
    assert read.row(1) is None  # one stand-in, two parameters: each slot knows its value
    # A value written into the queryset itself has no stand-in: refused, not guessed.
    fixed = Prepared(lambda pk: Jam.objects.filter(pk=pk, host_id=5), integer(0))
    with pytest.raises(ValueError, match="not one stand-in"):
        fixed.row(1)


def _post(jam: Jam, **extra: Any) -> Post:
    user = UserFactory()
    values: dict[str, Any] = {
        "jam": jam,
        "seq": 101,
        "rev": 101,
        "author": user,
        "author_key": f"app:{user.pk}",
        "author_handle": user.username,
        "author_role": AuthorRole.PARTICIPANT,
        "body": "Hello",
        "text": "Hello #Jam",
        "links": ["https://example.com/"],
        "metrics": {"likes": 2},
        "created_at": timezone.now(),
    }
    values.update(extra)
    return Post(**values)


def test_a_prepared_insert_stores_what_create_stores() -> None:
    jam = live_jam()
    post = PreparedInsert(Post).save(_post(jam, client_key="k1"))
    assert post.pk is not None and post._state.db == "default" and not post._state.adding
    stored = Post.objects.get(pk=post.pk)
    assert _fields(stored) == _fields(post)
    assert stored.links == ["https://example.com/"] and stored.metrics == {"likes": 2}
    assert stored.updated_at is not None  # auto_now ran
    # The same via Django, for comparison, field by field (but the keys and times).
    other = _post(jam, seq=102, rev=102, client_key="k2")
    other.save(force_insert=True)
    skip = {"id", "seq", "rev", "author_id", "author_key", "author_handle", "client_key"}
    skip |= {"created_at", "updated_at"}
    mine = {k: v for k, v in _fields(stored).items() if k not in skip}
    theirs = {k: v for k, v in _fields(Post.objects.get(pk=other.pk)).items() if k not in skip}
    assert mine == theirs


def test_a_prepared_insert_raises_what_the_database_raises() -> None:
    jam = live_jam()
    PreparedInsert(Post).save(_post(jam, client_key="same"))
    with pytest.raises(IntegrityError), transaction.atomic():
        PreparedInsert(Post).save(_post(jam, seq=102, rev=102, client_key="same"))
    assert Post.objects.filter(client_key="same").count() == 1


def test_a_prepared_insert_leaves_signals_and_expressions_to_django() -> None:
    jam = live_jam()
    seen: list[Post] = []

    def note(sender: Any, instance: Post, **_: Any) -> None:
        seen.append(instance)

    pre_save.connect(note, sender=Post)
    try:
        post = PreparedInsert(Post).save(_post(jam, client_key="signalled"))
    finally:
        pre_save.disconnect(note, sender=Post)
    assert seen == [post]
    expression = PreparedInsert(Post).save(
        _post(jam, seq=102, rev=102, client_key="expr", body=Value("From an expression"))
    )
    assert Post.objects.get(pk=expression.pk).body == "From an expression"
    with pytest.raises(ValueError):  # an unsaved related object: refused, as save() does
        PreparedInsert(Post).save(_post(jam, seq=103, rev=103, author=UserFactory.build()))


def test_a_compose_posts_reads_are_prepared() -> None:
    jam = live_jam()
    from django.db import connection

    from jamhost.posts.services import post_compose

    user = UserFactory()
    with CaptureQueriesContext(connection) as queries:
        post_compose(jam=jam, user=user, body="Prepared", client_key="c1")
    insert = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(insert) == 1 and "posts_post" in insert[0]
    assert Post.objects.get(client_key="c1").text.startswith("Prepared")
