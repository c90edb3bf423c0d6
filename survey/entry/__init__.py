from flask import Blueprint

bp = Blueprint("entry", __name__)

from survey.entry import device, views  # noqa: E402,F401
