"""Digest authentication (RFC 2617 / 3261 22): MD5, with or without qop=auth."""
from __future__ import annotations

import hashlib
import re
import secrets


class AuthError(Exception):
    pass


def parse_challenge(value: str) -> dict[str, str]:
    scheme, _, params = value.strip().partition(" ")
    if scheme.lower() != "digest":
        raise AuthError(f"unsupported authentication scheme {scheme!r}")
    return {name.lower(): raw.strip('"') for name, raw in re.findall(r'([\w-]+)\s*=\s*("[^"]*"|[^\s,]+)', params)}


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def digest_authorization(challenge: dict[str, str], *, username: str, password: str, method: str,
                         uri: str) -> str:
    algorithm = challenge.get("algorithm", "MD5")
    if algorithm.upper() != "MD5":
        raise AuthError(f"unsupported digest algorithm {algorithm}")
    realm, nonce = challenge["realm"], challenge["nonce"]
    ha1 = _md5(f"{username}:{realm}:{password}")
    ha2 = _md5(f"{method}:{uri}")
    fields = [f'username="{username}"', f'realm="{realm}"', f'nonce="{nonce}"', f'uri="{uri}"']
    qops = [qop.strip() for qop in challenge.get("qop", "").split(",") if qop.strip()]
    if "auth" in qops:
        cnonce, count = secrets.token_hex(8), "00000001"
        fields += [f'response="{_md5(f"{ha1}:{nonce}:{count}:{cnonce}:auth:{ha2}")}"', "qop=auth",
                   f"nc={count}", f'cnonce="{cnonce}"']
    elif qops:
        raise AuthError(f"unsupported qop {challenge['qop']}")
    else:
        fields.append(f'response="{_md5(f"{ha1}:{nonce}:{ha2}")}"')
    fields.append("algorithm=MD5")
    if "opaque" in challenge:
        fields.append(f'opaque="{challenge["opaque"]}"')
    return "Digest " + ", ".join(fields)
