"""Unbound extension objects; `create_app` binds them (cookiecutter-flask style). And
`lazy_module`: the feature modules that views and commands bind, imported on first use."""

import importlib
from typing import Any

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


class LazyModule:
    """Stands for a module until one of its attributes is read."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self._name), attribute)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


def lazy_module(name: str) -> Any:
    """A stand-in for the feature module `name`, imported the first time one of its attributes
    is read — by the first request or command that needs it — and then the ordinary module in
    ``sys.modules``. So a web worker starts without pandas, pyarrow, reportlab or qrcode
    (`tests/survey/test_production.py` checks it). A blueprint's views or a command group name
    the module as usual for the type checker and import-linter (``if TYPE_CHECKING: from
    survey.reports import exports``) and bind the name at run time to
    ``lazy_module("survey.reports.exports")``."""
    return LazyModule(name)
