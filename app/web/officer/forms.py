"""Forms of the officers' pages (Flask-WTF: each carries its CSRF token)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from app.web.form_text import TranslatedForm
from wtforms import DecimalField, HiddenField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice as Choice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.domain.cases import Decision, InspectionResult


class ActionForm(TranslatedForm):
    """A button that only needs the CSRF token (claim, unclaim, sign out)."""


class DecisionForm(TranslatedForm):
    decision = SelectField(_l("Decision"), choices=[
        Choice(Decision.RELEASE.value, _l("Release")),
        Choice(Decision.REQUEST_DOCUMENTS.value, _l("Request documents")),
        Choice(Decision.INSPECT.value, _l("Physical inspection")),
        Choice(Decision.REFUSE.value, _l("Refuse")),
        Choice(Decision.REROUTE.value, _l("Re-route lane")),
    ], validators=[InputRequired()])
    lane = SelectField(_l("New lane (re-route only)"),
                       choices=[Choice("", "—"), Choice("green", _l("green")), Choice("yellow", _l("yellow")),
                                Choice("red", _l("red"))],
                       validators=[Optional()])
    documents = StringField(_l("Documents requested"), validators=[Optional(), Length(max=500)])
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=4000)])
    # The declaration version on the officer's screen: a decision on a version the trader has
    # since amended is refused (DECLARATION_CHANGED) instead of applied to unseen content.
    declaration_version = HiddenField()


class InspectionForm(TranslatedForm):
    result = SelectField(_l("Result"), choices=[
        Choice(InspectionResult.NO_DISCREPANCY.value, _l("No discrepancy")),
        Choice(InspectionResult.DISCREPANCY.value, _l("Discrepancy")),
        Choice(InspectionResult.SEIZURE.value, _l("Seizure")),
    ], validators=[InputRequired()])
    revenue_recovered = DecimalField(_l("Revenue recovered (HKD)"), places=2, default=0,
                                     validators=[InputRequired(), NumberRange(min=0, max=10**14)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=4000)])


class NoteForm(TranslatedForm):
    note = TextAreaField(_l("Note"), validators=[DataRequired(), Length(max=4000)])


class ReassignForm(TranslatedForm):
    assignee = SelectField(_l("Assign to"), choices=[], validate_choice=False)
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])


class LocaleForm(TranslatedForm):
    locale = SelectField(_l("Language"), choices=[Choice("en", "English"), Choice("zh_Hant", "繁體中文")],
                         validators=[InputRequired()])
    next = HiddenField()


ROLE_CHOICES = [Choice("officer", _l("officer")), Choice("supervisor", _l("supervisor")),
                Choice("admin", _l("administrator"))]


class UserForm(TranslatedForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=60)])
    display_name = StringField(_l("Name"), validators=[Optional(), Length(max=140)])
    role = SelectField(_l("Role"), choices=[*ROLE_CHOICES, Choice("trader", _l("trader"))])
    party = StringField(_l("Company's BR number (traders only)"), validators=[Optional(), Length(max=35)])
    locale = SelectField(_l("Language"), choices=[Choice("en", "English"), Choice("zh_Hant", "繁體中文")], default="en")
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), Length(min=10, max=200)])


class AccountStatusForm(TranslatedForm):
    """Deactivate or reactivate an account: the reason goes on its history."""
    active = SelectField(choices=[Choice("0", _l("deactivate")), Choice("1", _l("reactivate"))])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])


class RoleForm(TranslatedForm):
    role = SelectField(_l("New role"), choices=ROLE_CHOICES)
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])


class PasswordForm(TranslatedForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=10, max=200)])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])


class SaveSearchForm(TranslatedForm):
    """Keep the filters on screen (queue or search) under a name."""
    page = HiddenField(validators=[InputRequired()])
    query = HiddenField(validators=[Optional(), Length(max=1000)])
    name = StringField(_l("Name for this filter"), validators=[DataRequired(), Length(max=60)])


class ReleaseLineForm(TranslatedForm):
    """An officer releases a consignment of a manifest selected for a check."""

    note = StringField(_l("What the check found"), validators=[DataRequired(), Length(max=400)])
