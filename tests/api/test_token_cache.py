"""Verified access tokens are reused; anything that fails the full check is never kept."""

from __future__ import annotations

from datetime import timedelta

import pytest

from api.auth.token_cache import VerifiedTokens
from api.auth.tokens import InvalidToken, TokenType, create_token
from videoanalysis.tables import User

KEY = "k" * 40


def test_only_valid_access_tokens_are_kept():
    user = User(id=7, email="t@example.com", password_hash="x", token_version=3)
    tokens = VerifiedTokens(KEY)
    access = create_token(user, TokenType.ACCESS, timedelta(minutes=5), KEY)
    first = tokens.access_claims(access)
    assert (first.user_id, first.version) == (7, 3)
    assert tokens.access_claims(access) is first  # the second time from memory
    refused = {
        "refresh": create_token(user, TokenType.REFRESH, timedelta(minutes=5), KEY),
        "expired": create_token(user, TokenType.ACCESS, timedelta(minutes=-1), KEY),
        "forged": create_token(user, TokenType.ACCESS, timedelta(minutes=5), "x" * 40),
        "garbage": "not.a.token",
    }
    for name, token in refused.items():
        for _ in range(2):  # refused again: a failure is not remembered as anything
            with pytest.raises(InvalidToken):
                tokens.access_claims(token)
        assert token not in tokens._seen, name


def test_the_memory_is_bounded():
    tokens = VerifiedTokens(KEY, max_tokens=3)
    made = [
        create_token(User(id=i, email="b@example.com", password_hash="x"), TokenType.ACCESS, timedelta(minutes=5), KEY)
        for i in range(5)
    ]
    assert [tokens.access_claims(t).user_id for t in made] == [0, 1, 2, 3, 4]
    assert list(tokens._seen) == made[2:]  # the oldest went first
