"""Live pages: the bell, lists that refresh themselves, alerts for new orders and urges."""
