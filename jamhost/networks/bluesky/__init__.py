"""Bluesky for jamhost: text rules and facets (text), the XRPC calls (client), posts read
into networks.remote values (posts) and Jetstream (jetstream)."""
