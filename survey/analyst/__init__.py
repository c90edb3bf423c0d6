from flask import Blueprint

bp = Blueprint("analyst", __name__)

from survey.analyst import views  # noqa: E402,F401
