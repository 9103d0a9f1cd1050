"""Builds the fixed ASP.NET Core Identity and Keycloak password-hash vectors used by
the unit tests of src/crypto/hash_formats.rs (and the README examples).

Only the standard library: hashlib.pbkdf2_hmac makes the same derived keys as
ASP.NET's KeyDerivation.Pbkdf2 and Keycloak's PBKDF2WithHmacSHA*; the byte layouts are
those of ASP.NET Core Identity's PasswordHasher (v2: 0x00 | salt(16) | subkey(32),
PBKDF2-HMAC-SHA1, 1000 iterations; v3: 0x01 | prf | iterations | salt length | salt |
subkey, numbers big-endian u32, prf 0 SHA-1, 1 SHA-256, 2 SHA-512) and of Keycloak's
realm export (credential with secretData {value, salt} and credentialData
{hashIterations, algorithm}, both JSON strings).

Run: python3 tests/interop/foreign_hash_vectors.py [password]
"""

import base64
import hashlib
import json
import struct
import sys

password = (sys.argv[1] if len(sys.argv) > 1 else "correct horse").encode("utf-8")
# Fixed salts so that the output is reproducible.
salt16 = bytes(range(16))
b64 = lambda b: base64.b64encode(b).decode("ascii")

v2 = b"\x00" + salt16 + hashlib.pbkdf2_hmac("sha1", password, salt16, 1000, 32)
print("aspnet v2:", b64(v2))

for prf, name, iterations in [(1, "sha256", 10000), (2, "sha512", 100000), (0, "sha1", 1000)]:
    subkey = hashlib.pbkdf2_hmac(name, password, salt16, iterations, 32)
    v3 = b"\x01" + struct.pack(">III", prf, iterations, len(salt16)) + salt16 + subkey
    print(f"aspnet v3 {name}:", b64(v3))

for algorithm, digest, iterations, length in [
    ("pbkdf2-sha256", "sha256", 27500, 64),
    ("pbkdf2-sha512", "sha512", 30000, 64),
    ("pbkdf2", "sha1", 20000, 64),
]:
    value = hashlib.pbkdf2_hmac(digest, password, salt16, iterations, length)
    credential = {
        "type": "password",
        "secretData": json.dumps(
            {"value": b64(value), "salt": b64(salt16), "additionalParameters": {}},
            separators=(",", ":"),
        ),
        "credentialData": json.dumps(
            {"hashIterations": iterations, "algorithm": algorithm, "additionalParameters": {}},
            separators=(",", ":"),
        ),
    }
    print(f"keycloak {algorithm}:", json.dumps(credential, separators=(",", ":")))
