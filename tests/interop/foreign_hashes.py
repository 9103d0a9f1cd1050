"""Prints one `user import` line (JSON) per password-hash format of passlib and
Django, each hash made by the real library at test time for the password given.

Run: python foreign_hashes.py PASSWORD
"""

import json
import sys

import django
from django.conf import settings

settings.configure()
django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from passlib.hash import bcrypt_sha256, pbkdf2_sha256, pbkdf2_sha512  # noqa: E402

password = sys.argv[1]
hashes = {
    "passlib-bcrypt-sha256-v2": bcrypt_sha256.using(rounds=4).hash(password),
    "passlib-bcrypt-sha256-v1": bcrypt_sha256.using(rounds=4, version=1).hash(password),
    "passlib-pbkdf2-sha256": pbkdf2_sha256.using(rounds=1000).hash(password),
    "passlib-pbkdf2-sha512": pbkdf2_sha512.using(rounds=1000).hash(password),
    # Django's own defaults (PBKDF2-SHA256, its current iteration count).
    "django-pbkdf2-sha256": make_password(password),
    "django-pbkdf2-sha1": make_password(password, hasher="pbkdf2_sha1"),
}
for name, h in hashes.items():
    print(json.dumps({"email": f"{name}@contoso.com", "password_hash": h}))
