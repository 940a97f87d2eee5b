"""Access tokens already verified, kept until they expire: a client sends the same token on
every request of a session, and checking its signature and claims again each time was a
tenth of what `/me/` cost. Only tokens that passed the full check are kept; the user and token
version behind them are still checked on every request (`api.auth.user_cache`)."""

from __future__ import annotations

import time

from jose import jwt

from api.auth.tokens import TokenClaims, TokenType, decode_token


class VerifiedTokens:
    def __init__(self, secret_key: str, max_tokens: int = 10_000) -> None:
        self._key, self._max = secret_key, max_tokens
        self._seen: dict[str, tuple[TokenClaims, float]] = {}

    def access_claims(self, token: str) -> TokenClaims:
        """The claims of a valid access token; raises `InvalidToken` like `decode_token`."""
        hit = self._seen.get(token)
        if hit is not None and time.time() < hit[1]:
            return hit[0]
        claims = decode_token(token, TokenType.ACCESS, self._key)
        if len(self._seen) >= self._max:
            self._seen.pop(next(iter(self._seen)))
        self._seen[token] = (claims, float(jwt.get_unverified_claims(token)["exp"]))
        return claims
