"""Browser tests (headless Chromium) of the web workspaces."""
