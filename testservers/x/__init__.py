"""An X-compatible HTTP server for tests and staging, speaking X API v2 JSON as X does.

    python -m testservers.x --port 8765 [--search-lag 5] [--timeline-lag 1]
    X_API_BASE_URL=http://127.0.0.1:8765 X_CLIENT_ID=staging X_BEARER_TOKEN=app …

Endpoints: GET /2/tweets/search/recent, GET /2/users/:id/tweets, POST /2/tweets,
GET /2/tweets/:id, GET /2/users/me, POST /2/oauth2/token (authorization_code with PKCE
S256, refresh_token with rotation), GET /i/oauth2/authorize (consents at once as
`consenting_user`), the filtered stream and its rules. Tests drive it through the Python
API of testservers.x.state.XEmulator (`user_add`, `tweet_add`, `tweet_edit`, `fault_next`,
`advance`, `tokens_revoke` …) and may pass a `validate` callable that checks every JSON answer
against X's OpenAPI schemas.

X's behaviours that a friendly server would hide, each switchable on the instance:
text comes back HTML-escaped (`escape_text`); a created post reaches search only after
`search_lag` seconds and its author's timeline after `timeline_lag`; the same text twice
from one account is refused with a 403 (`refuse_duplicates`); search reaches back 7 days
(`search_window`) and refuses an older `start_time`; each route and token has a 15-minute
rate window (`rate_limits`, with x-rate-limit-* headers and 429s); edits make a new post id
with the whole `edit_history_post_ids`; a post matches every hashtag X extracts from it.
Faults, queued per path prefix (testservers.x.wire.Fault): 429, 500, 503, garbage,
timeouts, cut connections, and for POST /2/tweets a timeout, a lost answer or a 503 after
the post was created.

This package module imports nothing, so `python -m testservers.x` can prepare the
environment before jamhost (whose hashtag rules the server uses) is imported.
"""
