"""Admin for posts: read-only. Every change to a post must reach live screens, so it goes
through posts.services (the live console), never through a bare save here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from jamhost.posts.models import Post


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
        "network_status",
        "created_at",
    )
    list_filter = ("status", "kind", "source", "author_role", "network_status", "pinned")
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
