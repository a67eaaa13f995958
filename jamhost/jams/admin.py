"""Admin for jams. Status, hashtags, counters, released questions and the moderation
rules (mode, muted words) change only through the services (which reserve tags, check
transitions, audit, take a rev and tell live screens), so the admin shows them
read-only; jams and questions are created on the host's pages, rules changed on the
jam's console."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from jamhost.core import events
from jamhost.jams.models import Invite, Jam, Membership, Question


def _tell_consoles(members: set[tuple[int, int]]) -> None:
    """Roles changed here bypass jams.people, so the admin sends the services'
    notification itself: each (jam, user)'s open consoles re-check the role after commit,
    and someone who may no longer moderate is cut off."""
    for jam_id, user_id in sorted(members):
        events.send_on_commit(events.UserRolesChanged(jam_id=jam_id, user_id=user_id))


def _members(queryset: Any) -> set[tuple[int, int]]:
    return set(queryset.values_list("jam_id", "user_id"))


class QuestionInline(admin.TabularInline):
    model = Question
    extra = 0
    fields = ("number", "text", "offset_minutes", "released_at")
    readonly_fields = ("number", "text", "offset_minutes", "released_at")
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Jam)
class JamAdmin(admin.ModelAdmin):
    list_display = ("title", "hashtag", "host", "starts_at", "duration_minutes", "status")
    list_filter = ("status", "moderation_mode", "starts_at")
    search_fields = ("title", "slug", "hashtag", "host__username")
    date_hierarchy = "starts_at"
    list_select_related = ("host",)
    readonly_fields = (
        "slug",
        "hashtag",
        "hashtag_key",
        "host",
        "starts_at",
        "duration_minutes",
        "status",
        "current_question",
        # The console's jam_rules services audit these, take a rev and reach every screen.
        "moderation_mode",
        "muted_words",
        "last_seq",
        "rev",
        "header_rev",
        "went_live_at",
        "ended_at",
        "archived_at",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("title", "slug", "description", "hashtag", "host")}),
        ("Schedule", {"fields": ("status", "starts_at", "duration_minutes", "current_question")}),
        (
            "Moderation",
            {
                "fields": (
                    "moderation_mode",
                    "muted_words",
                    "flag_threshold",
                    "deleted_author_policy",
                )
            },
        ),
        (
            "Counters and timestamps",
            {
                "fields": (
                    "hashtag_key",
                    "last_seq",
                    "rev",
                    "header_rev",
                    "went_live_at",
                    "ended_at",
                    "archived_at",
                    "created_at",
                    "updated_at",
                )
            },
        ),
    )
    inlines = (QuestionInline, MembershipInline)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not Membership:
            super().save_formset(request, form, formset, change)
            return
        # Everyone in the jam before or after: added, removed, re-roled or moved.
        members = Membership.objects.filter(jam_id=form.instance.pk)
        before = _members(members)
        super().save_formset(request, form, formset, change)
        _tell_consoles(before | _members(members))


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ("__str__", "jam", "number", "offset_minutes", "released_at")
    list_filter = (("released_at", admin.EmptyFieldListFilter),)
    search_fields = ("text", "jam__title", "jam__hashtag")
    list_select_related = ("jam",)
    readonly_fields = ("jam", "number", "released_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and obj.is_released:
            return (*self.readonly_fields, "text", "offset_minutes")
        return self.readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "jam", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("user__username", "jam__title", "jam__hashtag")
    list_select_related = ("user", "jam")
    autocomplete_fields = ("user", "jam")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # The row as it was too: a membership moved to another user or jam cuts off the
        # old one's consoles as well.
        before = _members(Membership.objects.filter(pk=obj.pk)) if change else set()
        super().save_model(request, obj, form, change)
        _tell_consoles(before | {(obj.jam_id, obj.user_id)})

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        member = (obj.jam_id, obj.user_id)
        super().delete_model(request, obj)
        _tell_consoles({member})

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        members = _members(queryset)
        super().delete_queryset(request, queryset)
        _tell_consoles(members)


@admin.register(Invite)
class InviteAdmin(admin.ModelAdmin):
    list_display = ("jam", "role", "note", "created_by", "expires_at", "accepted_by", "accepted_at")
    list_filter = ("role", ("accepted_at", admin.EmptyFieldListFilter))
    search_fields = ("jam__title", "note", "created_by__username", "accepted_by__username")
    list_select_related = ("jam", "created_by", "accepted_by")
    readonly_fields = (
        "jam",
        "role",
        "token",
        "created_by",
        "created_at",
        "accepted_by",
        "accepted_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
