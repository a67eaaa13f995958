"""The console's "Audience questions" view orders by votes: console.js's pure ordering,
run under node, on the attributes the post fragment really renders."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from jamhost.audience.votes import vote_add
from jamhost.posts.render import MODERATOR, render_post

pytestmark = pytest.mark.django_db
CONSOLE_JS = Path(__file__).resolve().parents[2] / "static" / "js" / "console.js"
NODE = shutil.which("node") or shutil.which("nodejs")

SCRIPT = """
const api = require(process.argv[1]);
const posts = JSON.parse(process.argv[2]);
const view = { name: "questions", question: "", author: "" };
const order = posts.map(p => {
  const attrs = {
    getAttribute: k => (k in p.attrs ? p.attrs[k] : null),
    classList: {contains: () => false},
  };
  return [api.orderOf(api.attributesOf(attrs), view), p.id];
});
order.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
process.stdout.write(JSON.stringify(order.map(o => o[1])));
"""


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_unanswered_questions_first_most_upvoted_first(room) -> None:  # type: ignore[no-untyped-def]
    import re

    from jamhost.posts.post_moderation import post_mark_answered

    few, many, answered = (room.question(f"Question {n}?") for n in range(3))
    for voter in room.others[:3]:
        vote_add(post_id=many.pk, user=voter)
        vote_add(post_id=answered.pk, user=voter)
    vote_add(post_id=few.pk, user=room.others[0])
    post_mark_answered(jam=room.jam, actor=room.moderator, post_id=answered.pk)
    posts = []
    for post in (few, many, answered):
        post.refresh_from_db()
        html = render_post(post, MODERATOR)
        attrs = dict(re.findall(r'(data-[a-z-]+)="([^"]*)"', html.split(">", 1)[0]))
        posts.append({"id": post.pk, "attrs": attrs})
    done = subprocess.run(
        [NODE, "-e", SCRIPT, str(CONSOLE_JS), json.dumps(posts)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert json.loads(done.stdout) == [many.pk, few.pk, answered.pk]
