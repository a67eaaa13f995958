"""Mastodon's entities as the server sends them (Account, Status, Instance v1 and v2),
with every attribute the documentation does not mark optional."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from testservers.mastodon.wire import iso, mentions, status_html

if TYPE_CHECKING:
    from testservers.mastodon.state import MastodonEmulator


def account_json(m: MastodonEmulator, account_id: str) -> dict[str, Any]:
    account = m.accounts[account_id]
    user, domain = account["username"], account["domain"]
    if domain:
        acct, url, uri = (
            f"{user}@{domain}",
            f"https://{domain}/@{user}",
            f"https://{domain}/users/{user}",
        )
    else:
        acct, url, uri = user, f"{m.base_url}/@{user}", f"{m.base_url}/users/{user}"
    avatar = f"{m.base_url}/system/accounts/avatars/{account_id}/original/avatar.png"
    header = f"{m.base_url}/headers/original/missing.png"
    count = sum(1 for s in m.statuses.values() if s["account_id"] == account_id)
    return {
        "id": account_id,
        "username": user,
        "acct": acct,
        "url": url,
        "uri": uri,
        "display_name": account["display_name"],
        "note": "",
        "avatar": avatar,
        "avatar_static": avatar,
        "avatar_description": "",
        "header": header,
        "header_static": header,
        "header_description": "",
        "locked": False,
        "fields": [],
        "emojis": [],
        "bot": False,
        "group": False,
        "discoverable": True,
        "indexable": True,
        "created_at": iso(account["created_at"]),
        "last_status_at": None,
        "statuses_count": count,
        "followers_count": 0,
        "following_count": 0,
        "hide_collections": None,
        "show_media": True,
        "show_media_replies": True,
        "show_featured": True,
        "roles": [],
        "feature_approval": {
            "automatic": [],
            "manual": [],
            "current_user": "missing",
        },
    }


def credential_account_json(m: MastodonEmulator, account_id: str) -> dict[str, Any]:
    out = account_json(m, account_id)
    out["source"] = {
        "attribution_domains": [],
        "note": "",
        "fields": [],
        "privacy": "public",
        "sensitive": False,
        "language": "",
        "follow_requests_count": 0,
        "hide_collections": None,
        "discoverable": True,
        "indexable": True,
        "quote_policy": "public",
    }
    out["role"] = {"id": "-99", "name": "", "permissions": "0", "color": "", "highlighted": False}
    return out


def status_json(m: MastodonEmulator, sid: int, with_source: bool = False) -> dict[str, Any]:
    status = m.statuses[sid]
    account = account_json(m, status["account_id"])
    reblog = status["reblog_of"]
    if account["acct"] == account["username"]:
        uri = f"{m.base_url}/users/{account['username']}/statuses/{sid}"
        url = f"{m.base_url}/@{account['username']}/{sid}"
    else:
        domain = m.accounts[status["account_id"]]["domain"]
        uri = f"https://{domain}/users/{account['username']}/statuses/{sid}"
        url = f"https://{domain}/@{account['username']}/{sid}"
    if reblog is not None:
        uri, url = f"{uri}/activity", url
    reply_account = None
    reply = status["in_reply_to_id"]
    if reply is not None and int(reply) in m.statuses:
        reply_account = m.statuses[int(reply)]["account_id"]
    text = status["text"]
    return {
        "id": str(sid),
        "uri": uri,
        "created_at": iso(status["created_at"]),
        "account": account,
        "content": "" if reblog is not None else status_html(text, m.base_url, m.domain),
        "visibility": "public",
        "sensitive": False,
        "spoiler_text": "",
        "media_attachments": [],
        "application": {"name": "Web", "website": None},
        "mentions": [
            {
                "id": "0",
                "username": user,
                "url": f"https://{domain or m.domain}/@{user}",
                "acct": f"{user}@{domain}" if domain else user,
            }
            for user, domain in mentions(text)
        ],
        "tags": [
            {"name": tag, "url": f"{m.base_url}/tags/{tag}"}
            for tag in ([] if reblog is not None else status["tags"])
        ],
        "emojis": [],
        "reblogs_count": sum(1 for s in m.statuses.values() if s["reblog_of"] == sid),
        "favourites_count": 0,
        "quotes_count": 0,
        "replies_count": sum(1 for s in m.statuses.values() if s["in_reply_to_id"] == str(sid)),
        "url": None if reblog is not None else url,
        "in_reply_to_id": reply,
        "in_reply_to_account_id": reply_account,
        "reblog": status_json(m, reblog) if reblog in m.statuses else None,
        "poll": None,
        "card": None,
        "language": status["language"],
        "text": text if with_source else None,
        "edited_at": iso(status["edited_at"]) if status["edited_at"] else None,
        "quote": None,
        "quote_approval": {"automatic": ["public"], "manual": [], "current_user": "automatic"},
        "tagged_collections": [],
    }


def _configuration_statuses(m: MastodonEmulator) -> dict[str, int]:
    return {
        "max_characters": m.max_characters,
        "max_media_attachments": 4,
        "characters_reserved_per_url": m.url_weight,
    }


_MEDIA = {
    "supported_mime_types": ["image/jpeg", "image/png"],
    "image_size_limit": 16777216,
    "image_matrix_limit": 33177600,
    "video_size_limit": 103809024,
    "video_frame_rate_limit": 120,
    "video_matrix_limit": 8294400,
}
_POLLS = {
    "max_options": 4,
    "max_characters_per_option": 50,
    "min_expiration": 300,
    "max_expiration": 2629746,
}


def instance_v2_json(m: MastodonEmulator) -> dict[str, Any]:
    streaming = m.base_url.replace("http", "ws", 1)
    feeds = {"local": "public", "remote": "public"}
    return {
        "domain": m.domain,
        "title": m.title,
        "version": m.version,
        "source_url": "https://github.com/mastodon/mastodon",
        "description": "A Mastodon-compatible server for jamhost's tests.",
        "wrapstodon": None,
        "usage": {"users": {"active_month": len(m.accounts)}},
        "thumbnail": {"url": f"{m.base_url}/packs/media/images/preview.png", "description": ""},
        "icon": [],
        "languages": ["en"],
        "configuration": {
            "urls": {
                "streaming": streaming,
                "status": None,
                "about": f"{m.base_url}/about",
                "privacy_policy": None,
                "terms_of_service": None,
            },
            "vapid": {"public_key": "BCk-QqERU0q-CfYZjcuB6lnyyOYfJ2AifKqfeGIm7Z-HiTU5T9eTG5GxVA0="},
            "accounts": {
                "max_display_name_length": 30,
                "max_note_length": 500,
                "max_avatar_description_length": 1500,
                "max_header_description_length": 1500,
                "max_featured_tags": 10,
                "max_pinned_statuses": 5,
                "max_profile_fields": 4,
                "profile_field_name_limit": 255,
                "profile_field_value_limit": 255,
            },
            "statuses": _configuration_statuses(m),
            "media_attachments": {**_MEDIA, "description_limit": 1500},
            "polls": _POLLS,
            "translation": {"enabled": False},
            "timelines_access": {
                "live_feeds": feeds,
                "hashtag_feeds": feeds,
                "trending_link_feeds": feeds,
            },
            "limited_federation": False,
        },
        "registrations": {
            "enabled": False,
            "approval_required": False,
            "message": None,
            "min_age": None,
            "reason_required": False,
            "url": None,
        },
        "api_versions": {"mastodon": m.api_version},
        "contact": {"email": "", "account": None},
        "rules": [],
    }


def instance_v1_json(m: MastodonEmulator) -> dict[str, Any]:
    return {
        "uri": m.domain,
        "title": m.title,
        "short_description": "",
        "description": "A Mastodon-compatible server for jamhost's tests.",
        "email": "",
        "version": m.version,
        "urls": {"streaming_api": m.base_url.replace("http", "ws", 1)},
        "stats": {
            "user_count": len(m.accounts),
            "status_count": len(m.statuses),
            "domain_count": 1,
        },
        "thumbnail": None,
        "languages": ["en"],
        "registrations": False,
        "approval_required": False,
        "invites_enabled": False,
        "configuration": {
            "accounts": {"max_featured_tags": 10},
            "statuses": _configuration_statuses(m),
            "media_attachments": _MEDIA,
            "polls": _POLLS,
        },
        "contact_account": None,
        "rules": [],
    }
