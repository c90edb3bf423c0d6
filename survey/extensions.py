"""Unbound extension objects; `create_app` binds them (cookiecutter-flask style)."""

from flask_babel import Babel
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from survey.models.base import Base

db = SQLAlchemy(model_class=Base)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
#: Pages compressed by the app too (zstd, brotli or gzip, as the client accepts), so that a
#: phone gets the questionnaire in a few kB even without the reverse proxy's gzip.
compress = Compress()
limiter = Limiter(key_func=get_remote_address)
