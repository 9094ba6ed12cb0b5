"""Access tokens are verified here with PyJWT against the user pool's JWKS (fetched once, cached)."""
from __future__ import annotations

import gzip
import json
import threading
import time
import urllib.request

from ..domain.errors import Unauthenticated
from ..services.principal import Principal


def _fetch_jwks(url: str) -> dict:
    if url.startswith("file://"):
        path = url[len("file://"):]
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rb") as fh:
            return json.loads(fh.read())
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - URL is configuration
        return json.loads(response.read())


class AccessTokenVerifier:
    """Checks signature (RS256, key by `kid`), expiry, issuer, `token_use` and the app client id."""

    def __init__(self, jwks_url: str, issuer: str, client_id: str, refresh_seconds: int = 3600,
                 fetch=_fetch_jwks) -> None:
        self.jwks_url = jwks_url
        self.issuer = issuer
        self.client_id = client_id
        self.refresh_seconds = refresh_seconds
        self._fetch = fetch
        self._keys: dict = {}
        self._loaded_at = float("-inf")  # never loaded: the first verification fetches
        self._lock = threading.Lock()

    def _key(self, kid: str):
        import jwt  # PyJWT with cryptography: loaded on the first authenticated request only

        with self._lock:
            stale = time.monotonic() - self._loaded_at > self.refresh_seconds
            if stale or (kid not in self._keys and time.monotonic() - self._loaded_at > 30):
                jwks = self._fetch(self.jwks_url)
                self._keys = {k["kid"]: jwt.PyJWK(k, algorithm="RS256") for k in jwks.get("keys", [])}
                self._loaded_at = time.monotonic()
            if kid not in self._keys:
                raise Unauthenticated()
            return self._keys[kid].key

    def verify(self, token: str, source_ip: str | None = None) -> Principal:
        import jwt

        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") != "RS256":
                raise Unauthenticated()
            claims = jwt.decode(token, self._key(header.get("kid", "")), algorithms=["RS256"],
                                issuer=self.issuer, options={"require": ["exp", "iat", "iss", "sub"]},
                                leeway=5)
        except jwt.PyJWTError as exc:
            raise Unauthenticated() from exc
        if claims.get("token_use") != "access" or claims.get("client_id") != self.client_id:
            raise Unauthenticated()
        username = claims.get("username")
        if not isinstance(username, str) or not username:
            raise Unauthenticated()
        jti = claims.get("jti")
        return Principal(user_id=username, source_ip=source_ip, issued_at=int(claims["iat"]),
                         token_id=jti if isinstance(jti, str) and jti else None)
