"""A Mastodon-compatible HTTP server for tests and staging, speaking Mastodon's REST API
and its streaming API as a Mastodon instance does.

    python -m testservers.mastodon --port 8766 [--timeline-lag 1] [--max-characters 500]

Endpoints: POST /api/v1/apps, GET /oauth/authorize (consents at once as
`consenting_user`), POST /oauth/token (authorization_code), GET
/api/v1/accounts/verify_credentials, GET /api/v1/instance and /api/v2/instance, POST
/api/v1/statuses (Idempotency-Key honoured for an hour), GET and DELETE
/api/v1/statuses/:id, GET /api/v1/timelines/tag/:hashtag (max_id, since_id, min_id,
limit, Link header) and the streaming API's hashtag stream (GET /api/v1/streaming?stream=
hashtag&tag=… or /api/v1/streaming/hashtag?tag=…, Server-Sent Events). Tests drive it
through the Python API of testservers.mastodon.state.MastodonEmulator (`account_add`,
`status_add`, `status_boost`, `status_edit`, `status_remove`, `tokens_revoke`,
`fault_next`, `advance` …) and may pass a `validate` callable that checks every JSON
answer against the documented entities.

Mastodon's behaviours that a friendly server would hide, each switchable on the instance:
content is HTML (paragraphs, <br />, mention and hashtag links, long links cut with
invisible and ellipsis spans, entities); a new status reaches tag timelines after
`timeline_lag` seconds; boosts of a tagged status appear in its tag timeline
(`boosts_in_tags`); edits set edited_at and stream status.update; a status longer than
`max_characters` (links count `url_weight`) or with one of `banned_words` is refused with
a 422; every token (or anonymous client) has `rate_limit` requests per `rate_window`
seconds, with X-RateLimit-* headers and 429s; revoked tokens get 401. Faults, queued per
path prefix (testservers.mastodon.wire.Fault): 429, 500, 502, 503, garbage, slow answers,
cut connections, and for POST /api/v1/statuses a cut connection or a 503 after the status
was stored.
"""
