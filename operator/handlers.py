"""`kopf run operator/handlers.py` still works: the handlers are `va_operator.handlers`."""

from va_operator.handlers import *  # noqa: F403  (importing registers the handlers)
