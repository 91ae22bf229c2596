"""Discord front end: slash commands, mentions, buttons; talks to the core through ``Engine``."""
