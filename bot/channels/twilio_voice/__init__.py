"""The 24-hour phone line: Twilio Programmable Voice on the same flows as the chat."""
