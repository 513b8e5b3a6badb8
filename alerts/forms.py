from functools import partial

from django import forms
from django.utils.translation import gettext_lazy as _

from alerts.models import AlertRule, Channel, Severity, Silence, Status


class AlertFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("open", _("Open")), ("", _("Any")), *Status.choices]
    )
    severity = forms.ChoiceField(label=_("Severity"), required=False, choices=[("", _("Any")), *Severity.choices])
    site = forms.ChoiceField(label=_("Site"), required=False)
    type = forms.ChoiceField(label=_("Type"), required=False)
    since = forms.DateTimeField(
        label=_("Since"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    search = forms.CharField(label=_("Search"), required=False)

    def __init__(self, *args, sites=(), types=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = [("", _("Any")), *sites]
        self.fields["type"].choices = [("", _("Any")), *((t, t) for t in types)]


class CommentForm(forms.Form):
    body = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)


class SilenceForm(forms.ModelForm):
    class Meta:
        model = Silence
        fields = ["site_id", "source_id", "alert_type", "starts_at", "ends_at", "comment"]
        widgets = {
            "starts_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "ends_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
        }


class ChannelForm(forms.ModelForm):
    webhook_secret = forms.CharField(
        label=_("Signing secret"),
        required=False,
        widget=forms.PasswordInput,
        help_text=_("Bodies are signed with HMAC-SHA256 in X-Voltwatch-Signature."),
    )

    class Meta:
        model = Channel
        fields = [
            "name",
            "kind",
            "min_severity",
            "repeat_interval_minutes",
            "email_recipients",
            "webhook_url",
            "webhook_secret",
            "webhook_format",
            "enabled",
        ]
        # A URL typed without a scheme is taken as https (Django 6's default; the project-wide
        # FORMS_URLFIELD_ASSUME_HTTPS setting is deprecated).
        field_classes = {"webhook_url": partial(forms.URLField, assume_scheme="https")}

    def clean(self):
        data = super().clean()
        if data.get("kind") == Channel.Kind.EMAIL and not data.get("email_recipients"):
            self.add_error("email_recipients", _("An email channel needs recipients."))
        if data.get("kind") == Channel.Kind.WEBHOOK and not data.get("webhook_url"):
            self.add_error("webhook_url", _("A webhook channel needs a URL."))
        return data


class RuleForm(forms.ModelForm):
    class Meta:
        model = AlertRule
        fields = list(AlertRule.EDITABLE_FIELDS)
