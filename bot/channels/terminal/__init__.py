"""The terminal (`hotline chat`): a pulled channel for trying the bot; see `bot.terminal`."""
