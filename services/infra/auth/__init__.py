"""Who may do what, for which cells: bearer tokens (JWT, HS256), roles and organisation scope.

`claims` says what a token carries, `tokens` mints and verifies them, `http` puts them in front
of a Litestar app (middleware, role guards, the caller's claims as a dependency), and `scope`
answers whether a cell or an organisation is within a caller's reach.
"""

from services.infra.auth.claims import AuthSettings, Claims

__all__ = ["AuthSettings", "Claims"]
