"""A Bluesky-compatible HTTP server for tests and staging: a PDS, an AppView and Jetstream
on one loopback port, speaking XRPC JSON as they do.

    python -m testservers.bluesky --port 8766 [--search-lag 5] [--handle alice.test]

Procedures (under /xrpc/): com.atproto.server.createSession and refreshSession (JWT-looking
tokens with `exp`, refresh tokens rotate), com.atproto.repo.createRecord, deleteRecord and
getRecord (app.bsky.feed.post), app.bsky.feed.searchPosts, app.bsky.actor.getProfile,
com.atproto.identity.resolveHandle; and a Jetstream-like websocket at
/subscribe?wantedCollections=app.bsky.feed.post&cursor=<time_us>. Tests drive it through
testservers.bluesky.state.BlueskyEmulator (`account_add`, `post_add`, `post_delete`,
`fault_next`, `advance`, `tokens_expire`, `jetstream_drop` …) and may pass a `validate`
callable that checks every JSON answer against the atproto lexicons.

Bluesky's behaviours that a friendly server would hide, each switchable: search lag
(`search_lag`), rate windows with ratelimit-* headers and 429 RateLimitExceeded
(`rate_limits`), opaque cursors, access tokens that expire (400 ExpiredToken), 300 graphemes
and facets that must be byte ranges of the text (400 InvalidRequest), a taken record key
(`existing_rkey`), deleted posts leaving search with a Jetstream delete. Faults, queued per
path (testservers.bluesky.wire.Fault): 429, 500, 502, 503, garbage, slow answers, cut
connections, and for createRecord a stored record whose answer is late, lost or a 502.
"""
