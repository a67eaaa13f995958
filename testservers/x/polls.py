"""Native polls on the X-compatible server, in X API v2's shapes: a post created with
`poll: {options, duration_minutes}` (2 to 4 options of 1 to 25 characters, 5 to 10080
minutes, else 400), its `attachments.poll_ids`, and the post looked up with
GET /2/tweets?ids=…&expansions=attach_polls.poll_ids&poll.fields=… answering the poll
under `includes.polls` (id and options always; duration_minutes, end_datetime and
voting_status when asked). Votes are cast from tests with XEmulator.poll_votes_add.
A mixin of handler.Handler."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from testservers.x.plumbing import Plumbing
from testservers.x.wire import iso, problem

MIN_MINUTES, MAX_MINUTES = 5, 10080


def poll_problem(poll: Any) -> str:
    """Why X refuses this `poll` field, or "" when it takes it."""
    if not isinstance(poll, dict) or set(poll) - {"options", "duration_minutes", "reply_settings"}:
        return "poll must be an object with options and duration_minutes"
    options = poll.get("options")
    if not isinstance(options, list) or not 2 <= len(options) <= 4:
        return "poll.options must hold 2 to 4 choices"
    if not all(isinstance(o, str) and 1 <= len(o) <= 25 for o in options):
        return "each of poll.options must be 1 to 25 characters"
    minutes = poll.get("duration_minutes")
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        return "poll.duration_minutes must be an integer"
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        return f"poll.duration_minutes must be from {MIN_MINUTES} to {MAX_MINUTES}"
    return ""


def poll_refused(poll: Any) -> dict[str, Any] | None:
    reason = poll_problem(poll)
    return problem(400, "Invalid Request", reason) if reason else None


class PollRoutes(Plumbing):
    def tweets_lookup(self, path: str, query: dict[str, list[str]], _: Any, __: Any) -> None:
        """GET /2/tweets?ids=…: the posts found (each a billed read) and their polls."""
        if self._bearer_user() is None:
            self._unauthorized()
            return
        ids = [i for i in ",".join(query.get("ids", [])).split(",") if i]
        if not ids or len(ids) > 100 or not all(i.isdigit() for i in ids):
            self._send(400, problem(400, "Invalid Request", "ids must be 1 to 100 post ids"))
            return
        expansions = set(",".join(query.get("expansions", [])).split(","))
        poll_fields = set(",".join(query.get("poll.fields", [])).split(","))
        fields = self._fields(query)
        if "attach_polls.poll_ids" in expansions:
            fields.add("attachments")
        with self.x.lock:
            found = [self.x.tweets[int(i)] for i in ids if int(i) in self.x.tweets]
            posts = [self._render(tweet, fields) for tweet in found]
            polls = []
            if "attach_polls.poll_ids" in expansions:
                for tweet in found:
                    for pid in (tweet.get("attachments") or {}).get("poll_ids", []):
                        polls.append(self._poll(pid, poll_fields))
        body: dict[str, Any] = {}
        if posts:
            body["data"] = posts
        if polls:
            body["includes"] = {"polls": polls}
        missing = [i for i in ids if int(i) not in {int(t["id"]) for t in found}]
        if missing:
            body["errors"] = [
                {
                    "value": i,
                    "detail": f"Could not find tweet with ids: [{i}].",
                    "title": "Not Found Error",
                    "resource_type": "tweet",
                    "parameter": "ids",
                    "resource_id": i,
                    "type": "https://api.x.com/2/problems/resource-not-found",
                }
                for i in missing
            ]
        self.x.count_served("tweets_lookup", len(posts))
        self._send(200, body, route="tweets_lookup")

    def _poll(self, pid: str, fields: set[str]) -> dict[str, Any]:
        poll = self.x.polls[pid]
        ends = poll["end"]
        out: dict[str, Any] = {
            "id": pid,
            "options": [
                {"position": n, "label": label, "votes": poll["votes"][n - 1]}
                for n, label in enumerate(poll["options"], 1)
            ],
        }
        if "duration_minutes" in fields:
            out["duration_minutes"] = poll["duration_minutes"]
        if "end_datetime" in fields:
            out["end_datetime"] = iso(datetime.fromtimestamp(ends, tz=UTC))
        if "voting_status" in fields:
            out["voting_status"] = "open" if self.x.now() < ends else "closed"
        return out
