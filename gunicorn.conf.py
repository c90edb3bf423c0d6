"""gunicorn settings for the province's server (2 cores, a few GB of memory), behind nginx on
the same machine. Start: ``.venv/bin/gunicorn`` from the project folder (this file is read
automatically). See docs/operations.md.

Settings from the environment (not ``SIPAS_*``: those belong to the application):
``GUNICORN_BIND`` (default 127.0.0.1:8000), ``WEB_CONCURRENCY`` (worker processes, default 3).
"""

import os

wsgi_app = "wsgi:app"
# The workers only serve pages: no `flask` commands, no Flask-Migrate/alembic (docs/operations.md).
raw_env = ["SIPAS_WEB_ONLY=true"]
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# 2 cores: three processes with four threads each. A request mostly waits on the database;
# threads cover that, processes cover a worker that is busy computing a report.
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
worker_class = "gthread"
threads = 4
# The master imports the application once and forks the workers: the site answers ~2 s
# after start, and a worker that dies is replaced at once. `create_app` closes its database
# connections before returning, so no connection is shared across the fork.
preload_app = True
timeout = 120  # an analyst's report on a million responses takes seconds, not minutes
graceful_timeout = 30
keepalive = 5
max_requests = 5000  # recycle workers now and then (memory held by pandas)
max_requests_jitter = 500
limit_request_line = 8190
limit_request_fields = 100
# Only nginx on this machine may say the request came over https.
forwarded_allow_ips = "127.0.0.1"
# gunicorn >= 25.1 opens a control socket for `gunicornc` at $XDG_RUNTIME_DIR/gunicorn.ctl or
# ~/.gunicorn/gunicorn.ctl: one path for every instance the same user runs, so a second copy of
# the site (a training instance beside production) takes it over and each removes it on stop;
# and the master stops and restarts its thread around every fork of a worker. The service is
# run by systemd and its signals (docs/operations.md): no control socket.
control_socket_disable = True
accesslog = "-"
errorlog = "-"
loglevel = "info"
# No client addresses in the access log beyond what nginx already keeps.
access_log_format = '"%(r)s" %(s)s %(b)s %(M)sms'
