#!/usr/bin/env python3
"""oracle.py: an implementation of anon's key derivation and keyed hashes written from the
specs (RFC 5869 HKDF, RFC 2104 HMAC) with Python's standard library, to check the C code
against something it does not share.

  oracle.py subkey KEYHEX TOOL PURPOSE [DOMAIN]        -> subkey hex
  oracle.py hmac KEYHEX TOOL PURPOSE DOMAIN ALGO VALUE  -> MAC hex (ALGO sha256|sha512|blake2b)
  oracle.py fingerprint KEYHEX                          -> 16 hex digits
"""
import hashlib, hmac, sys

def hkdf(key, info, length=32):
    prk = hmac.new(b"\0" * 32, key, hashlib.sha256).digest()
    out, t, i = b"", b"", 1
    while len(out) < length:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        out += t
        i += 1
    return out[:length]

def subkey(keyhex, tool, purpose, domain=""):
    info = tool.encode() + b"\0" + purpose.encode() + b"\0" + domain.encode()
    return hkdf(bytes.fromhex(keyhex), info)

def main(argv):
    if argv[1] == "subkey":
        print(subkey(*argv[2:]).hex())
    elif argv[1] == "hmac":
        keyhex, tool, purpose, domain, algo, value = argv[2:8]
        k = subkey(keyhex, tool, purpose, domain)
        if algo == "blake2b":
            print(hashlib.blake2b(value.encode(), key=k).hexdigest())
        else:
            print(hmac.new(k, value.encode(), algo).hexdigest())
    elif argv[1] == "fingerprint":
        k = bytes.fromhex(argv[2])
        print(hmac.new(k, b"anon key fingerprint v1", hashlib.sha256).hexdigest()[:16])
    else:
        sys.exit("usage: see the docstring")

main(sys.argv)
