"""WSGI entry point for production servers: gunicorn 'wsgi:app'."""
from hotline import create_app

app = create_app()
