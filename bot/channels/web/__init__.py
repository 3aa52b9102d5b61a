"""The web chat: a pulled channel (the page asks for its replies), no account."""
