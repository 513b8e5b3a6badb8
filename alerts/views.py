from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.decorators import role_required
from alerts import configuration, fanout, selectors, services
from alerts.forms import AlertFilterForm, ChannelForm, CommentForm, RuleForm, SilenceForm
from alerts.models import Alert, AlertRule, Channel, Silence
from core.http import client_ip
from core.navigation import SECTION_BY_SLUG

SECTION = SECTION_BY_SLUG["alerts"]
ACTORS = ("admin", "operator")


def _context(tab: str, **extra) -> dict:
    return {"section": SECTION, "tab": tab, **extra}


@login_required
def alert_list(request):
    data = request.GET.copy()
    data.setdefault("status", "open")
    form = AlertFilterForm(data, sites=selectors.alert_sites(), types=selectors.alert_types())
    filters = form.cleaned_data if form.is_valid() else {"status": "open"}
    alerts = selectors.filtered_alerts(
        severity=filters.get("severity", ""),
        status=filters.get("status", ""),
        site=filters.get("site", ""),
        alert_type=filters.get("type", ""),
        since=filters.get("since"),
        search=filters.get("search", ""),
    )
    page = Paginator(alerts, 50).get_page(request.GET.get("page"))
    template = "alerts/_table.html" if request.headers.get("HX-Request") else "alerts/list.html"
    return render(
        request,
        template,
        _context("alerts", form=form, page=page, counts=selectors.open_counts(), query=request.GET.urlencode()),
    )


@login_required
def alert_detail(request, pk: int):
    alert = get_object_or_404(Alert, pk=pk)
    users = get_user_model().objects.filter(is_active=True).order_by("email")
    return render(
        request,
        "alerts/detail.html",
        _context(
            "alerts",
            alert=alert,
            comments=alert.comments.select_related("author"),
            deliveries=selectors.deliveries_of(alert),
            users=users,
            comment_form=CommentForm(),
            can_act=request.user.role in ACTORS,
        ),
    )


@role_required(*ACTORS)
@require_POST
def alert_action(request, pk: int):
    alert = get_object_or_404(Alert, pk=pk)
    action = request.POST.get("action")
    who = {"by": request.user, "ip_address": client_ip(request)}
    try:
        if action == "acknowledge":
            services.alert_acknowledge(alert=alert, **who)
        elif action == "resolve":
            services.alert_resolve(alert=alert, **who)
        elif action == "assign":
            assignee = get_user_model().objects.filter(pk=request.POST.get("assignee") or None, is_active=True).first()
            services.alert_assign(alert=alert, assignee=assignee, **who)
        elif action == "comment":
            form = CommentForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Write a comment first."))
            services.alert_comment(alert=alert, body=form.cleaned_data["body"], **who)
        else:
            raise ValidationError(_("Unknown action."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("alerts:detail", pk=alert.pk)


@login_required
def silences(request):
    form = SilenceForm(request.POST or None)
    if request.method == "POST":
        if request.user.role not in ACTORS:
            messages.error(request, _("Only operators and admins can create silences."))
        elif form.is_valid():
            try:
                configuration.silence_create(by=request.user, ip_address=client_ip(request), **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Silence created."))
                return redirect("alerts:silences")
    return render(
        request,
        "alerts/silences.html",
        _context("silences", form=form, silences=selectors.silences()),
        status=400 if form.errors else 200,
    )


@role_required(*ACTORS)
@require_POST
def silence_end(request, pk: int):
    configuration.silence_end(silence=get_object_or_404(Silence, pk=pk), by=request.user, ip_address=client_ip(request))
    messages.success(request, _("Silence ended."))
    return redirect("alerts:silences")


@role_required("admin")
def channels(request):
    form = ChannelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        configuration.channel_create(by=request.user, ip_address=client_ip(request), **form.cleaned_data)
        messages.success(request, _("Channel saved."))
        return redirect("alerts:channels")
    return render(
        request,
        "alerts/channels.html",
        _context("channels", form=form, channels=selectors.channels()),
        status=400 if form.errors else 200,
    )


@role_required("admin")
def channel_edit(request, pk: int):
    channel = get_object_or_404(Channel, pk=pk)
    form = ChannelForm(request.POST or None, instance=Channel.objects.get(pk=channel.pk))
    if request.method == "POST" and form.is_valid():
        configuration.channel_update(
            channel=channel, by=request.user, ip_address=client_ip(request), **form.cleaned_data
        )  # an empty secret keeps the current one
        messages.success(request, _("Channel saved."))
        return redirect("alerts:channels")
    return render(request, "alerts/channel_edit.html", _context("channels", form=form, channel=channel))


@role_required("admin")
@require_POST
def channel_test(request, pk: int):
    channel = get_object_or_404(Channel, pk=pk)
    fanout.send_test_notification(channel=channel)
    messages.success(
        request, _("Test notification queued for “%(name)s”; its result appears below.") % {"name": channel.name}
    )
    return redirect("alerts:channels")


@login_required
def rules(request):
    form = RuleForm(request.POST or None)
    if request.method == "POST":
        if request.user.role != "admin":
            messages.error(request, _("Only admins can change rules."))
        elif form.is_valid():
            configuration.rule_create(by=request.user, ip_address=client_ip(request), **form.cleaned_data)
            messages.success(request, _("Rule saved."))
            return redirect("alerts:rules")
    return render(
        request,
        "alerts/rules.html",
        _context("rules", form=form, rules=AlertRule.objects.all()),
        status=400 if form.errors else 200,
    )


@role_required("admin")
def rule_edit(request, pk: int):
    rule = get_object_or_404(AlertRule, pk=pk)
    form = RuleForm(request.POST or None, instance=AlertRule.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        configuration.rule_update(rule=rule, by=request.user, ip_address=client_ip(request), **form.cleaned_data)
        messages.success(request, _("Rule saved."))
        return redirect("alerts:rules")
    return render(request, "alerts/rule_edit.html", _context("rules", form=form, rule=rule))
