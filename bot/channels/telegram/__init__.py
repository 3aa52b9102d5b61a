"""Telegram: a pushed channel on the Bot API (PTB), private chats only."""
