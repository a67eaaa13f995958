"""The filtered stream of the X-compatible server: its rules and the long-lived
connection. A mixin of handler.Handler."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from testservers.x.plumbing import Plumbing
from testservers.x.wire import iso


class StreamRoutes(Plumbing):
    def rules_get(self, path: str, _: Any, __: Any, ___: Any) -> None:
        if self._bearer_user() != "":
            self._unauthorized()
            return
        with self.x.lock:
            rules = list(self.x.rules.values())
        body: dict[str, Any] = {
            "meta": {"sent": iso(datetime.now(tz=UTC)), "result_count": len(rules)}
        }
        if rules:
            body["data"] = rules
        self._send(200, body, route="rules_get")

    def rules_update(self, path: str, _: Any, payload: Any, __: Any) -> None:
        if self._bearer_user() != "":
            self._unauthorized()
            return
        payload = payload if isinstance(payload, dict) else {}
        created: list[dict[str, str]] = []
        deleted = 0
        with self.x.lock:
            for rule in payload.get("add") or []:
                self.x._next_id += 1
                entry = {"id": str(self.x._next_id), "value": str(rule.get("value", ""))}
                if rule.get("tag"):
                    entry["tag"] = str(rule["tag"])
                self.x.rules[entry["id"]] = entry
                created.append(entry)
            for rule_id in (payload.get("delete") or {}).get("ids") or []:
                deleted += self.x.rules.pop(str(rule_id), None) is not None
        summary = {"created": len(created), "not_created": 0, "valid": len(created), "invalid": 0}
        if deleted:
            summary = {"deleted": deleted, "not_deleted": 0}
        body: dict[str, Any] = {"meta": {"sent": iso(datetime.now(tz=UTC)), "summary": summary}}
        if created:
            body["data"] = created
        self._send(200, body, route="rules_update")

    def stream(self, path: str, query: dict[str, list[str]], _: Any, __: Any) -> None:
        """Line-delimited JSON: each new tweet that matches a rule, with the rules it
        matched; an empty line as keep-alive every second. Open until stream_close()."""
        if self._bearer_user() != "":
            self._unauthorized()
            return
        self.send_response(200)
        self.send_header("content-type", "application/json; charset=utf-8")
        self.send_header("connection", "close")
        # Chunked, as X streams: each write reaches the client at once.
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        self.close_connection = True
        fields = self._fields(query)
        user_fields = set(",".join(query.get("user.fields", [])).split(","))
        with self.x.lock:
            self.x.stream_open = True
            seen = max(self.x.tweets, default=0)
        try:
            while True:
                lines: list[bytes] = []
                with self.x.lock:
                    self.x.stream_changed.wait(timeout=1.0)
                    if not self.x.stream_open:
                        self.wfile.write(b"0\r\n\r\n")
                        return
                    for tid in sorted(t for t in self.x.tweets if t > seen):
                        seen = tid
                        tweet = self.x.tweets[tid]
                        matched = [
                            {"id": r["id"], "tag": r.get("tag", "")}
                            for r in self.x.rules.values()
                            if self.x.matches(tweet, r["value"].split())
                        ]
                        if not matched:
                            continue
                        item: dict[str, Any] = {
                            "data": self._render(tweet, fields),
                            "matching_rules": matched,
                        }
                        users = self._users([tweet["author_id"]], user_fields)
                        if users:
                            item["includes"] = {"users": users}
                        if self.x.validate is not None:
                            try:
                                self.x.validate("GET", "stream", 200, item)
                            except Exception as exc:
                                self.x.validation_errors.append(f"stream: {exc}")
                        lines.append(json.dumps(item).encode() + b"\r\n")
                payload = b"".join(lines) or b"\r\n"
                self.wfile.write(b"%x\r\n%s\r\n" % (len(payload), payload))
                self.wfile.flush()
        except OSError:
            return  # the client went away
