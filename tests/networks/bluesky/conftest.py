"""The Bluesky-compatible server on loopback, with every answer it sends parsed by the
atproto SDK's models (generated from the lexicons) with strict string formats, so the
server cannot drift from the lexicons without these tests failing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from atproto_client import models
from atproto_client.models.common import XrpcError
from atproto_client.models.utils import get_or_create

from testservers.bluesky.state import APP_PASSWORD, BlueskyEmulator

OUTPUTS: dict[str, Any] = {
    "com.atproto.server.createSession": models.ComAtprotoServerCreateSession.Response,
    "com.atproto.server.refreshSession": models.ComAtprotoServerRefreshSession.Response,
    "com.atproto.repo.createRecord": models.ComAtprotoRepoCreateRecord.Response,
    "com.atproto.repo.deleteRecord": models.ComAtprotoRepoDeleteRecord.Response,
    "com.atproto.repo.getRecord": models.ComAtprotoRepoGetRecord.Response,
    "app.bsky.feed.searchPosts": models.AppBskyFeedSearchPosts.Response,
    "app.bsky.actor.getProfile": models.AppBskyActorDefs.ProfileViewDetailed,
    "com.atproto.identity.resolveHandle": models.ComAtprotoIdentityResolveHandle.Response,
}
PASSWORD = APP_PASSWORD


def strict(body: Any, model: Any) -> Any:
    parsed = get_or_create(body, model, strict=True, strict_string_format=True)
    assert isinstance(parsed, model), parsed
    return parsed


def jetstream_check(event: dict[str, Any]) -> None:
    """Jetstream's commit event (github.com/bluesky-social/jetstream README)."""
    assert event["kind"] == "commit"
    assert event["did"].startswith("did:plc:")
    assert isinstance(event["time_us"], int)
    commit = event["commit"]
    assert set(commit) >= {"rev", "operation", "collection", "rkey"}
    if commit["operation"] == "delete":
        assert "record" not in commit and "cid" not in commit
    else:
        strict(commit["record"], models.AppBskyFeedPost.Record)
        assert commit["cid"].startswith("bafyrei")


def validate(nsid: str, status: int, body: Any) -> None:
    if nsid == "jetstream":
        jetstream_check(body)
    elif status >= 400:
        strict(body, XrpcError)
    else:
        parsed = strict(body, OUTPUTS[nsid])
        for post in getattr(parsed, "posts", None) or []:
            strict(post.record.model_dump(by_alias=True), models.AppBskyFeedPost.Record)


@pytest.fixture
def bsky() -> Iterator[BlueskyEmulator]:
    emulator = BlueskyEmulator(validate=validate)
    emulator.start()
    yield emulator
    emulator.stop()
    assert not emulator.validation_errors, emulator.validation_errors
