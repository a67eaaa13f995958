"""A jam of any size as saved X API v2 search results, the file `import_transcript --format x`
reads: the host's questions spread over the hour, a panel answering each, a community of
several hundred with avatars, links (t.co, expanded), likes, and side conversations
(replies to an earlier answer). Deterministic: the same arguments give the same bytes.

    .venv/bin/python -m bench.xjam --posts 10000 > jam.json
    manage.py import_transcript jam.json --host USER --format x --host-handle BenchHost \
        --panelists panel0,panel1,…   (printed on stderr)
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

HOST = "BenchHost"
HASHTAG = "BenchJam"
WORDS = [
    "async",
    "standups",
    "remote",
    "deep",
    "work",
    "focus",
    "calendar",
    "notes",
    "docs",
    "meeting",
    "timezone",
    "async-first",
    "review",
    "pairing",
    "coffee",
    "walk",
    "break",
    "lunch",
    "inbox",
    "zero",
    "handbook",
    "onboarding",
    "feedback",
    "habits",
    "tooling",
    "keyboard",
    "headphones",
    "office",
    "garden",
    "kids",
    "dog",
    "quiet",
    "music",
    "podcast",
    "burnout",
    "trust",
    "written",
    "culture",
    "decisions",
    "rituals",
    "retro",
    "planning",
    "sprint",
    "slack",
    "email",
    "video",
    "camera",
]


@dataclass(frozen=True)
class XJam:
    document: dict[str, Any]
    panelists: tuple[str, ...]
    questions: int

    def dumps(self) -> str:
        return json.dumps(self.document, ensure_ascii=False)


def x_jam(
    *,
    posts: int,
    questions: int = 10,
    minutes: float = 60.0,
    panel: int = 12,
    community: int = 900,
    start: datetime | None = None,
    reply_every: int = 9,
    seed: int = 22,
) -> XJam:
    """`posts` tweets in all (questions included) over `minutes`; every `reply_every`-th
    community post replies to an earlier answer of the same question."""
    rng = random.Random(seed)
    t0 = start or datetime(2026, 11, 22, 18, 0, tzinfo=UTC)
    span = timedelta(minutes=minutes)
    panelists = tuple(f"panel{n}" for n in range(panel))
    users = [{"id": "1", "username": HOST, "name": "Bench Host"}]
    users += [
        {
            "id": str(100 + n),
            "username": handle,
            "name": f"Panelist {n}",
            "profile_image_url": f"https://pbs.twimg.com/profile_images/{100 + n}_normal.jpg",
        }
        for n, handle in enumerate(panelists)
    ]
    users += [
        {
            "id": str(1000 + n),
            "username": f"reader{n}",
            "name": f"Reader {n}",
            "profile_image_url": f"https://pbs.twimg.com/profile_images/{1000 + n}_normal.jpg",
        }
        for n in range(community)
    ]
    questions = max(1, min(questions, posts))
    asked_at = [t0 + span * (n / questions) for n in range(questions)]
    tweets: list[dict[str, Any]] = []
    answers: dict[int, list[str]] = {}
    answer_slots = posts - questions
    next_id = 1_900_000_000_000_000_000
    made = 0
    for number in range(1, questions + 1):
        next_id += 1
        tweets.append(
            {
                "id": str(next_id),
                "text": f"Q{number}: What is your take on {WORDS[number % len(WORDS)]} "
                f"and {WORDS[(number * 7) % len(WORDS)]}? #{HASHTAG}",
                "author_id": "1",
                "created_at": _stamp(asked_at[number - 1]),
                "lang": "en",
            }
        )
        share = answer_slots // questions + (1 if number <= answer_slots % questions else 0)
        window = (asked_at[number] if number < questions else t0 + span) - asked_at[number - 1]
        for k in range(share):
            made += 1
            next_id += 1
            at = asked_at[number - 1] + window * ((k + 1) / (share + 1))
            is_panel = k < panel * 2 and k % 2 == 0
            author = (
                str(100 + (k // 2) % panel) if is_panel else str(1000 + rng.randrange(community))
            )
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 22)))
            tweet: dict[str, Any] = {
                "id": str(next_id),
                "author_id": author,
                "created_at": _stamp(at),
                "lang": "en",
                "public_metrics": {
                    "like_count": rng.randrange(30),
                    "retweet_count": rng.randrange(5),
                    "reply_count": 0,
                    "quote_count": 0,
                },
            }
            earlier = answers.get(number) or []
            if not is_panel and earlier and made % reply_every == 0:
                parent = rng.choice(earlier[-40:])
                tweet["referenced_tweets"] = [{"type": "replied_to", "id": parent}]
                tweet["text"] = f"Agreed, {words} #{HASHTAG}"
            else:
                text = f"A{number}: {words}"
                if made % 4 == 0:
                    short = f"https://t.co/{next_id % 100000:05d}"
                    text += f" {short}"
                    tweet["entities"] = {
                        "urls": [
                            {
                                "url": short,
                                "expanded_url": f"https://example.org/reads/{made % 300}",
                            }
                        ]
                    }
                tweet["text"] = f"{text} #{HASHTAG}"
                answers.setdefault(number, []).append(tweet["id"])
            tweets.append(tweet)
    document = {"data": tweets, "includes": {"users": users}, "meta": {"result_count": len(tweets)}}
    return XJam(document=document, panelists=panelists, questions=questions)


def _stamp(moment: datetime) -> str:
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--questions", type=int, default=10)
    parser.add_argument("--minutes", type=float, default=60.0)
    args = parser.parse_args()
    jam = x_jam(posts=args.posts, questions=args.questions, minutes=args.minutes)
    sys.stdout.write(jam.dumps())
    print(f"--host-handle {HOST} --panelists {','.join(jam.panelists)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
