"""The bottom layer: settings helpers and the event bus every app may use. It imports no
other jamhost app."""
