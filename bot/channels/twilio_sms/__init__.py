"""SMS and WhatsApp through Twilio Messaging: two channel types on one provider webhook."""
