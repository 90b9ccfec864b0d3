"""Text messages from citizens: incoming SMS (a new order, an addition to an open one, a survey
answer) and return visits by SMS; the SMS gateways' callbacks (delivery reports)."""
