"""Responses from both channels: recording one (`recording`), the ``coded`` string of its
scale answers (`coded`), and reading many as the analysis's wide table (`wide`)."""
