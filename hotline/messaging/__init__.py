"""The outbox: every notice to anyone (SMS, in-app, later e-mail, fax, webhooks) is a message row
written in the same transaction as the change that causes it, and delivered after commit."""
