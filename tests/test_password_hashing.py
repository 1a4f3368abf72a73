"""Production password hashing: Argon2id at OWASP's parameters; an old PBKDF2 hash still signs
in and is replaced by an Argon2id one at that login (issue 13: the login POST took 1.2 s)."""
from django.contrib.auth.hashers import PBKDF2PasswordHasher, identify_hasher, make_password

from fupin.core.models import User

PRODUCTION = ["fupin.core.passwords.Argon2idHasher", "django.contrib.auth.hashers.PBKDF2PasswordHasher"]


def test_new_passwords_are_argon2id_with_owasp_parameters(settings):
    settings.PASSWORD_HASHERS = PRODUCTION
    encoded = make_password("Gan-luo-2026!")
    assert encoded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert type(identify_hasher(encoded)).__name__ == "Argon2idHasher"


def test_a_pbkdf2_hash_still_signs_in_and_is_upgraded(world, settings, client):
    settings.PASSWORD_HASHERS = PRODUCTION
    user = world.users["auditor"]
    User.objects.filter(pk=user.pk).update(password=PBKDF2PasswordHasher().encode("Gan-luo-2026!", "fixedsalt123"))
    user.refresh_from_db()
    assert user.password.startswith("pbkdf2_sha256$1000000$")
    assert user.check_password("Gan-luo-2026!") and not user.check_password("wrong")
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
