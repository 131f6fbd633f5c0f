"""WTForms' own messages ("This field is required.") said plainly, in the reader's language.

WTForms carries Simplified Chinese for ``zh``; Hong Kong reads Traditional Chinese, so every
form of the site takes its messages from the site's own catalogue instead (``TranslatedForm``).
"""
from __future__ import annotations

from typing import Any

from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

_PLAIN: dict[str, Any] = {
    "This field is required.": _l("This is required."),
    "Field must be between %(min)d and %(max)d characters long.": _l("Enter %(min)d to %(max)d characters."),
    "Field must be at least %(min)d character long.": _l("Enter at least %(min)d characters."),
    "Field must be at least %(min)d characters long.": _l("Enter at least %(min)d characters."),
    "Field cannot be longer than %(max)d character.": _l("Enter at most %(max)d characters."),
    "Field cannot be longer than %(max)d characters.": _l("Enter at most %(max)d characters."),
    "Field must be exactly %(max)d character long.": _l("Enter exactly %(max)d characters."),
    "Field must be exactly %(max)d characters long.": _l("Enter exactly %(max)d characters."),
    "Number must be at least %(min)s.": _l("Enter a number of at least %(min)s."),
    "Number must be at most %(max)s.": _l("Enter a number of at most %(max)s."),
    "Number must be between %(min)s and %(max)s.": _l("Enter a number from %(min)s to %(max)s."),
    "Not a valid decimal value.": _l("Enter a number, for example 1200.50."),
    "Not a valid float value.": _l("Enter a number, for example 1200.50."),
    "Not a valid integer value.": _l("Enter a whole number."),
    "Not a valid choice.": _l("Choose one of the options."),
    "Invalid Choice: could not coerce.": _l("Choose one of the options."),
    "Invalid input.": _l("This value is not accepted."),
    "The CSRF token is missing.": _l("The form has expired: reload the page and try again."),
    "The CSRF token has expired.": _l("The form has expired: reload the page and try again."),
    "The CSRF token is invalid.": _l("The form has expired: reload the page and try again."),
    "The CSRF session token is missing.": _l("The form has expired: reload the page and try again."),
    "The CSRF tokens do not match.": _l("The form has expired: reload the page and try again."),
}


class _Translations:
    def gettext(self, string: str) -> str:
        found = _PLAIN.get(string)
        return str(found) if found is not None else gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        found = _PLAIN.get(singular if n == 1 else plural)
        return str(found) if found is not None else ngettext(singular, plural, n)


TRANSLATIONS = _Translations()


class TranslatedForm(FlaskForm):
    """A Flask-WTF form (CSRF token included) whose messages come from the site's catalogue."""

    class Meta:
        def get_translations(self, form: Any) -> _Translations:
            return TRANSLATIONS
