"""Admin for posts: read-only. Every change to a post must reach live screens, so it goes
through posts.services (the live console), never through a bare save here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from jamhost.posts.models import AuditEntry, Block, Post


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = (
        "seq",
        "jam",
        "author_handle",
        "author_role",
        "kind",
        "status",
        "source",
        "created_at",
    )
    list_filter = ("status", "kind", "source", "author_role", "pinned")
    search_fields = ("text", "author_handle", "author_name", "external_id", "jam__title")
    list_select_related = ("jam",)
    date_hierarchy = "created_at"
    ordering = ("-created_at",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [field.name for field in Post._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The moderation audit log: read-only, it is the record of what happened."""

    list_display = (
        "created_at",
        "jam",
        "actor_handle",
        "action",
        "post",
        "author_handle",
        "reason",
    )
    list_filter = ("action",)
    search_fields = ("actor_handle", "author_handle", "reason", "jam__title")
    list_select_related = ("jam", "post")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [field.name for field in AuditEntry._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Block)
class BlockAdmin(admin.ModelAdmin):
    """Blocks are lifted from the console (author_unblock restores the posts and writes
    the audit entry), so here they are read-only."""

    list_display = ("author_handle", "jam", "blocked_by", "reason", "created_at")
    search_fields = ("author_handle", "author_key", "jam__title")
    list_select_related = ("jam", "blocked_by")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [field.name for field in Block._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
