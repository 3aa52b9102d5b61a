"""Fakes the tests run against: Bot API and Twilio REST servers on 127.0.0.1, test engines."""
