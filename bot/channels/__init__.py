"""Channels: one package per channel type, and the registry everything else asks.

Each package under `bot/channels/<name>/` is one channel type (RapidPro's channel types
are the model). Its `kind` module says what the channel *is* — pushed or pulled, whether
writing again lifts an opt-out, its opt-out words, the kind of address, how a reply is
rendered — and imports nothing above the engine, so the orchestrator and the outbox may
ask it (`bot.channels.registry`). Its other modules do the provider's work: `webhook`
parses what the provider posts into the inbox, `transport` sends outbox rows at the pace
the settings give. Adding a channel: a new package with a `kind` (registered in
`registry.CHANNEL_TYPES`), its webhook routes and, if pushed, a transport (wired in
`bot.app`), and its modules in the import layers of `pyproject.toml`.

Nothing is imported here, so importing a `kind` never pulls in a provider's client.
"""
