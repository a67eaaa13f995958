"""Servers that speak other networks' APIs on loopback, for tests and staging.

They are not part of jamhost (the installed package leaves them out): jamhost reaches them
through its ordinary settings (`X_API_BASE_URL` …), as it would reach the real network.
"""
