"""blockline's application shell: the command, the server, services, UI helpers and pages.

``geo`` (spatial foundations) and ``zoning`` (the policy) stay packages of their own; this package may import
them, they never import it.
"""

__all__: list[str] = []
