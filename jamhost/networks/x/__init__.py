"""X API v2 through tweepy, and an X-compatible server for tests and staging."""
