from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from jamhost.jams import lifecycle, people, run_sheet, services
from jamhost.jams.models import Invite, Jam, JamStatus, Membership, Question, Role
from tests.factories import JamFactory, MembershipFactory, QuestionFactory, UserFactory, live_jam

pytestmark = pytest.mark.django_db

TEN = datetime(2031, 3, 3, 10, 0, tzinfo=UTC)  # far enough ahead to schedule


def messages_of(exc: pytest.ExceptionInfo[ValidationError], field: str | None = None) -> str:
    error = exc.value
    if field is not None:
        return " ".join(error.message_dict[field])
    return " ".join(error.messages)


def create(**kwargs: object) -> Jam:
    defaults: dict[str, object] = {
        "host": UserFactory(),
        "title": "Podcast chat",
        "hashtag": "PodcastChat",
        "starts_at": TEN,
    }
    defaults.update(kwargs)
    return services.jam_create(**defaults)  # type: ignore[arg-type]


# Creating and reserving -----------------------------------------------------------------


def test_create_makes_a_draft_holding_the_tag_with_the_host_as_member() -> None:
    jam = create(hashtag="#PodcastChat", title="  Podcast chat ")
    assert (jam.status, jam.hashtag, jam.hashtag_key) == ("draft", "PodcastChat", "podcastchat")
    assert jam.title == "Podcast chat"
    assert jam.duration_minutes == 60
    assert jam.moderation_mode == "post"
    assert jam.deleted_author_policy == "anonymize"
    assert Membership.objects.get(jam=jam).role == Role.HOST


@pytest.mark.parametrize(
    "same_tag",
    [
        "PodcastChat",
        "podcastchat",
        "#PODCASTCHAT",
        " #podcastChat ",
        "\uff30\uff4f\uff44\uff43\uff41\uff53\uff54\uff23\uff48\uff41\uff54",  # fullwidth
        "\uff03PodcastChat",  # fullwidth number sign
        "Pod\u0441ast\u0421hat",  # Cyrillic es for both c's
        "P\u043edcastChat",  # Cyrillic o
    ],
)
def test_a_tag_is_reserved_case_insensitively_and_with_or_without_hash(same_tag: str) -> None:
    """Look-alikes too: a fullwidth or Cyrillic copy of the tag cannot take its window."""
    first = create()
    first.status = JamStatus.SCHEDULED
    first.save()
    with pytest.raises(ValidationError) as exc:
        create(hashtag=same_tag, starts_at=TEN + timedelta(minutes=15))
    message = messages_of(exc, "hashtag")
    assert "#PodcastChat is reserved by “Podcast chat”" in message
    assert "30 minutes either side" in message


@pytest.mark.parametrize(
    ("start", "free"),
    [
        (TEN + timedelta(minutes=89), False),  # 1 minute inside the margin after the end
        (TEN + timedelta(minutes=90), True),  # exactly end + margin
        (TEN - timedelta(minutes=90), True),  # ends 10:30 - 1h, i.e. exactly start - margin
        (TEN - timedelta(minutes=89), False),
        (TEN + timedelta(minutes=30), False),  # inside the jam itself
        (TEN + timedelta(days=1), True),
    ],
)
def test_windows_must_be_a_margin_apart(start: datetime, free: bool) -> None:
    create()
    if free:
        assert create(starts_at=start).hashtag_key == "podcastchat"
    else:
        with pytest.raises(ValidationError, match="reserved"):
            create(starts_at=start)


def test_a_long_jam_reserves_its_whole_window() -> None:
    create(duration_minutes=24 * 60)
    with pytest.raises(ValidationError, match="reserved"):
        create(starts_at=TEN + timedelta(hours=23))


def test_another_hosts_draft_is_not_named() -> None:
    create(title="Secret plans")
    with pytest.raises(ValidationError) as exc:
        create(starts_at=TEN + timedelta(minutes=5))
    assert "reserved by another jam" in messages_of(exc, "hashtag")
    assert "Secret plans" not in messages_of(exc, "hashtag")


def test_own_draft_is_named_to_its_host() -> None:
    jam = create(title="Secret plans")
    with pytest.raises(ValidationError) as exc:
        create(host=jam.host, starts_at=TEN + timedelta(minutes=5))
    assert "“Secret plans”" in messages_of(exc, "hashtag")


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"title": "  "}, "title", "Give the jam a title"),
        ({"hashtag": "123"}, "hashtag", "only digits"),
        ({"hashtag": "x" * 101}, "hashtag", "at most 100"),
        ({"hashtag": "bad tag"}, "hashtag", "letters, digits and underscores"),
        ({"duration_minutes": 4}, "duration_minutes", "5 to 1440"),
        ({"duration_minutes": 1441}, "duration_minutes", "5 to 1440"),
        ({"starts_at": datetime(9999, 12, 31, tzinfo=UTC)}, "starts_at", "within 50 years"),
        ({"starts_at": datetime(1, 1, 1, 1, tzinfo=UTC)}, "starts_at", "within 50 years"),
        ({"moderation_mode": "chaos"}, "moderation_mode", "not a valid choice"),
        ({"deleted_author_policy": "shred"}, "deleted_author_policy", "not a valid choice"),
    ],
)
def test_create_refuses_bad_input_by_field(kwargs: dict, field: str, message: str) -> None:
    with pytest.raises(ValidationError) as exc:
        create(**kwargs)
    assert message in messages_of(exc, field)
    assert not Jam.objects.exists()


def test_create_refuses_a_naive_start() -> None:
    with pytest.raises(ValidationError, match="time zone"):
        create(starts_at=datetime(2031, 1, 1, 10, 0))


def test_update_keeps_its_own_reservation_and_checks_others() -> None:
    jam = create()
    other = create(hashtag="OtherTag")
    updated = services.jam_update(
        jam=jam,
        title="Renamed",
        hashtag="#podcastchat",
        starts_at=TEN + timedelta(minutes=10),
        duration_minutes=90,
    )
    assert (updated.title, updated.hashtag, updated.duration_minutes) == (
        "Renamed",
        "podcastchat",
        90,
    )
    with pytest.raises(ValidationError) as exc:
        services.jam_update(
            jam=other, title="x", hashtag="PodcastChat", starts_at=TEN, duration_minutes=60
        )
    assert "reserved" in messages_of(exc, "hashtag")
    other.refresh_from_db()
    assert other.hashtag == "OtherTag"


def test_update_refuses_a_started_jam_and_a_scheduled_move_into_the_past() -> None:
    jam = live_jam()
    with pytest.raises(ValidationError, match="can no longer be edited"):
        services.jam_update(
            jam=jam, title="x", hashtag=jam.hashtag, starts_at=TEN, duration_minutes=60
        )
    scheduled = JamFactory(status=JamStatus.SCHEDULED)
    with pytest.raises(ValidationError) as exc:
        services.jam_update(
            jam=scheduled,
            title="x",
            hashtag=scheduled.hashtag,
            starts_at=timezone.now() - timedelta(hours=1),
            duration_minutes=60,
        )
    assert "into the past" in messages_of(exc, "starts_at")


# Transitions ----------------------------------------------------------------------------


def test_schedule_needs_a_question_and_a_future_start() -> None:
    jam = JamFactory()
    with pytest.raises(ValidationError, match="Add at least one question"):
        lifecycle.jam_schedule(jam=jam)
    QuestionFactory(jam=jam, number=1)
    with pytest.raises(ValidationError, match="start time has passed"):
        lifecycle.jam_schedule(jam=jam, now=jam.starts_at + timedelta(seconds=1))
    assert lifecycle.jam_schedule(jam=jam).status == JamStatus.SCHEDULED
    assert lifecycle.jam_unschedule(jam=jam).status == JamStatus.DRAFT


@pytest.mark.parametrize(
    ("status", "action", "message"),
    [
        ("draft", "jam_go_live", "A draft jam cannot become live"),
        ("draft", "jam_unschedule", "A draft jam cannot become draft"),
        ("scheduled", "jam_schedule", "A scheduled jam cannot become scheduled"),
        ("live", "jam_unschedule", "A live jam cannot become draft"),
        ("live", "jam_schedule", "A live jam cannot become scheduled"),
        ("ended", "jam_go_live", "An ended jam cannot become live"),
        ("archived", "jam_go_live", "cannot become live"),
        ("archived", "jam_schedule", "cannot become scheduled"),
        ("draft", "jam_end", "A draft jam cannot become ended"),
    ],
)
def test_invalid_transitions_are_refused(status: str, action: str, message: str) -> None:
    jam = JamFactory(status=status)
    QuestionFactory(jam=jam, number=1)
    with pytest.raises(ValidationError) as exc:
        getattr(lifecycle, action)(jam=jam)
    assert message in messages_of(exc)
    jam.refresh_from_db()
    assert jam.status == status


# Questions ------------------------------------------------------------------------------


def test_questions_are_numbered_in_order_and_cleaned() -> None:
    jam = JamFactory()
    q1 = run_sheet.question_add(jam=jam, text="  What   is\nup? ", offset_minutes=0)
    q2 = run_sheet.question_add(jam=jam, text="Next?", offset_minutes=59)
    assert (q1.number, q1.text, q2.number) == (1, "What is up?", 2)


@pytest.mark.parametrize(
    ("text", "offset", "field", "message"),
    [
        ("", 0, "text", "Write the question"),
        ("   \n ", 0, "text", "Write the question"),
        ("x" * 251, 0, "text", "this one has 251"),
        ("Fine?", 60, "offset_minutes", "0 to 59 minutes"),
        ("Fine?", -1, "offset_minutes", "0 to 59 minutes"),
    ],
)
def test_question_add_refuses_bad_input(text: str, offset: int, field: str, message: str) -> None:
    jam = JamFactory()
    with pytest.raises(ValidationError) as exc:
        run_sheet.question_add(jam=jam, text=text, offset_minutes=offset)
    assert message in messages_of(exc, field)
    assert not jam.questions.exists()


def test_a_released_question_cannot_be_edited_deleted_or_moved() -> None:
    jam = live_jam(questions=3, released=1)
    q1, q2, q3 = jam.questions.order_by("number")
    with pytest.raises(ValidationError, match=r"Q1 was released at .* no longer be edited"):
        run_sheet.question_update(question=q1, text="Changed", offset_minutes=0)
    with pytest.raises(ValidationError, match="Q1 is released and cannot be removed"):
        run_sheet.question_delete(question=q1)
    with pytest.raises(ValidationError, match="Q1 is released and keeps its place"):
        run_sheet.question_reorder(jam=jam, ordered_ids=[q2.pk, q1.pk, q3.pk])
    q1.refresh_from_db()
    assert (q1.number, q1.text) != (2, "Changed")
    assert q1.number == 1
    # The unreleased ones still move.
    run_sheet.question_reorder(jam=jam, ordered_ids=[q1.pk, q3.pk, q2.pk])
    assert list(jam.questions.order_by("number").values_list("pk", flat=True)) == [
        q1.pk,
        q3.pk,
        q2.pk,
    ]


def test_reorder_keeps_a_question_released_out_of_order_in_its_place() -> None:
    jam = live_jam(questions=3, released=0)
    q1, q2, q3 = jam.questions.order_by("number")
    run_sheet.question_release(question=q2)
    with pytest.raises(ValidationError, match="Q2 is released"):
        run_sheet.question_reorder(jam=jam, ordered_ids=[q2.pk, q1.pk, q3.pk])
    with pytest.raises(ValidationError, match="Q2 is released"):
        run_sheet.question_reorder(jam=jam, ordered_ids=[q1.pk, q3.pk, q2.pk])
    run_sheet.question_reorder(jam=jam, ordered_ids=[q3.pk, q2.pk, q1.pk])
    numbers = dict(jam.questions.values_list("pk", "number"))
    assert numbers == {q3.pk: 1, q2.pk: 2, q1.pk: 3}


def test_reorder_moves_questions_between_release_times() -> None:
    jam = JamFactory()
    a = run_sheet.question_add(jam=jam, text="A?", offset_minutes=0)
    b = run_sheet.question_add(jam=jam, text="B?", offset_minutes=15)
    c = run_sheet.question_add(jam=jam, text="C?", offset_minutes=30)
    run_sheet.question_reorder(jam=jam, ordered_ids=[c.pk, a.pk, b.pk])
    rows = list(jam.questions.order_by("number").values_list("text", "offset_minutes"))
    assert rows == [("C?", 0), ("A?", 15), ("B?", 30)]


@pytest.mark.parametrize(
    "order",
    [
        lambda ids: ids[:-1],  # one missing
        lambda ids: [*ids, ids[0]],  # one twice
        lambda ids: [ids[0], ids[0], ids[1]],
        lambda ids: [*ids[:-1], 999_999],  # unknown id
        lambda ids: [],
    ],
)
def test_reorder_must_list_each_question_once(order) -> None:  # type: ignore[no-untyped-def]
    jam = JamFactory()
    ids = [run_sheet.question_add(jam=jam, text=f"{n}?", offset_minutes=n).pk for n in range(3)]
    with pytest.raises(ValidationError, match="each of the jam's questions once"):
        run_sheet.question_reorder(jam=jam, ordered_ids=order(ids))
    assert list(jam.questions.order_by("number").values_list("pk", flat=True)) == ids


def test_reorder_refuses_another_jams_questions() -> None:
    jam = JamFactory()
    mine = run_sheet.question_add(jam=jam, text="Mine?", offset_minutes=0)
    theirs = QuestionFactory(jam=JamFactory(), number=1)
    with pytest.raises(ValidationError):
        run_sheet.question_reorder(jam=jam, ordered_ids=[theirs.pk])
    with pytest.raises(ValidationError):
        run_sheet.question_reorder(jam=jam, ordered_ids=[mine.pk, theirs.pk])
    theirs.refresh_from_db()
    assert theirs.number == 1


def test_delete_renumbers_the_rest() -> None:
    jam = JamFactory()
    qs = [run_sheet.question_add(jam=jam, text=f"{n}?", offset_minutes=n) for n in range(3)]
    run_sheet.question_delete(question=qs[0])
    assert list(jam.questions.order_by("number").values_list("text", "number")) == [
        ("1?", 1),
        ("2?", 2),
    ]


def test_update_edits_an_unreleased_question() -> None:
    jam = JamFactory()
    q = run_sheet.question_add(jam=jam, text="Old?", offset_minutes=0)
    run_sheet.question_update(question=q, text="New?", offset_minutes=5)
    q.refresh_from_db()
    assert (q.text, q.offset_minutes) == ("New?", 5)
    with pytest.raises(ValidationError) as exc:
        run_sheet.question_update(question=q, text="", offset_minutes=5)
    assert "Write the question" in messages_of(exc, "text")


def test_an_ended_jams_questions_are_frozen() -> None:
    jam = live_jam(questions=2, released=1)
    lifecycle.jam_end(jam=jam)
    q2 = jam.questions.get(number=2)
    for call in (
        lambda: run_sheet.question_add(jam=Jam.objects.get(pk=jam.pk), text="?", offset_minutes=0),
        lambda: run_sheet.question_update(question=q2, text="x?", offset_minutes=1),
        lambda: run_sheet.question_delete(question=q2),
        lambda: run_sheet.question_reorder(
            jam=jam, ordered_ids=list(jam.questions.values_list("pk", flat=True))
        ),
    ):
        with pytest.raises(ValidationError, match="jam is over"):
            call()
    assert jam.questions.count() == 2


# Invites and memberships ----------------------------------------------------------------


def invite(jam: Jam, role: str = Role.PANELIST) -> Invite:
    return people.invite_create(jam=jam, role=role, actor=jam.host, note="  for Pat  ")


def test_an_invite_gives_its_role_once() -> None:
    jam = JamFactory()
    inv = invite(jam)
    assert inv.note == "for Pat"
    assert inv.expires_at > timezone.now() + timedelta(days=13)
    pat = UserFactory()
    membership = people.invite_accept(token=inv.token, user=pat)
    assert (membership.user, membership.role) == (pat, Role.PANELIST)
    with pytest.raises(ValidationError, match="already used by you"):
        people.invite_accept(token=inv.token, user=pat)
    with pytest.raises(ValidationError, match="already used by someone else"):
        people.invite_accept(token=inv.token, user=UserFactory())
    assert Membership.objects.filter(jam=jam, role=Role.PANELIST).count() == 1


def test_an_invite_changes_an_existing_members_role() -> None:
    jam = JamFactory()
    pat = MembershipFactory(jam=jam, role=Role.PANELIST).user
    people.invite_accept(token=invite(jam, Role.MODERATOR).token, user=pat)
    assert Membership.objects.get(jam=jam, user=pat).role == Role.MODERATOR


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("expired", "has expired"),
        ("unknown", "not valid"),
        ("nul", "not valid"),
        ("host", "You host this jam already"),
        ("over", "jam is over"),
    ],
)
def test_invites_that_do_not_work(setup: str, message: str) -> None:
    jam = JamFactory()
    inv = invite(jam)
    user = UserFactory()
    token = inv.token
    if setup == "expired":
        Invite.objects.filter(pk=inv.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    elif setup == "unknown":
        token = "not-a-token"
    elif setup == "nul":
        token = "bad\x00token"
    elif setup == "host":
        user = jam.host
    elif setup == "over":
        Jam.objects.filter(pk=jam.pk).update(status=JamStatus.ENDED)
    with pytest.raises(ValidationError, match=message):
        people.invite_accept(token=token, user=user)
    assert not Membership.objects.filter(jam=jam, user=user).exclude(role=Role.HOST).exists()


def test_invite_create_refuses_other_roles_and_ended_jams() -> None:
    jam = JamFactory()
    with pytest.raises(ValidationError, match="moderator or a panelist"):
        people.invite_create(jam=jam, role=Role.HOST, actor=jam.host)
    jam.status = JamStatus.ENDED
    with pytest.raises(ValidationError, match="invites are closed"):
        people.invite_create(jam=jam, role=Role.PANELIST, actor=jam.host)


def test_membership_remove() -> None:
    jam = JamFactory()
    pat = MembershipFactory(jam=jam).user
    with pytest.raises(PermissionDenied):
        people.membership_remove(jam=jam, user_id=pat.pk, actor=UserFactory())
    with pytest.raises(ValidationError, match="host cannot be removed"):
        people.membership_remove(jam=jam, user_id=jam.host_id, actor=jam.host)
    people.membership_remove(jam=jam, user_id=pat.pk, actor=jam.host)
    assert not Membership.objects.filter(jam=jam, user=pat).exists()
    assert Question.objects.count() == 0
