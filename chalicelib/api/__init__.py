"""The HTTP edge: parse, authenticate, authorize, validate, call a service, map errors. Only this knows HTTP."""
