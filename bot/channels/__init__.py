"""Channel adapters: provider payloads in (stored in the inbox first), outbox rows out.

`common` holds what every channel shares (storing, processing hand-off, catalog texts),
`pipeline` runs stored messages through the engine, and `telegram`, `twilio` and `webchat`
translate between one provider and the core.
"""
