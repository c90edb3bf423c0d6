from flask import Blueprint

bp = Blueprint("public", __name__)

from survey.public import qr, views  # noqa: E402,F401
