"""Forms shared by several blueprints."""

from flask_wtf import FlaskForm


class ConfirmForm(FlaskForm):
    """An empty form: a POST button with its CSRF token."""
