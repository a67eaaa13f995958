"""Mastodon: jamhost's client of any Mastodon instance (through Mastodon.py), its status
text and its streaming API."""
