"""Provisioning and lifecycle of client companies (tenants), by platform staff.

Each write is in the public schema's audit log (`accounts.AuditLog`, which staff read in the
platform admin under Audit log): who, what, which client, and for edits the fields changed."""

import re
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context, schema_exists

from accounts import services as account_services
from accounts.models import Role, User
from accounts.services import audit_actor, audited_delete, record_audit, record_saved
from tenants.cloning import ensure_template_schema
from tenants.models import Client, Domain
from tenants.selectors import host_url

SLUG_RE = re.compile(r"^[a-z][a-z0-9]{1,39}$")
RESERVED_SLUGS = {"public", "www", "admin", "api", "static", "media", "mail", "ws", "healthz", "status"}
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class ProvisionedClient:
    client: Client
    domain: Domain
    admin_email: str
    admin_password: str | None  # shown once; None when an invitation link was emailed instead
    portal_url: str


def validate_slug(slug: str) -> str:
    slug = slug.strip().lower()
    if not SLUG_RE.match(slug):
        raise ValidationError(
            {"slug": _("Use 2-40 lowercase letters and digits, starting with a letter (it becomes the host name).")}
        )
    if slug in RESERVED_SLUGS or slug == settings.TENANT_BASE_SCHEMA or slug.startswith("pg"):
        raise ValidationError({"slug": _("“%(slug)s” is reserved; choose another.") % {"slug": slug}})
    if Client.objects.filter(schema_name=slug).exists():
        raise ValidationError({"slug": _("A client with the slug “%(slug)s” already exists.") % {"slug": slug}})
    return slug


def validate_domain(domain: str) -> str:
    domain = domain.strip().lower().rstrip(".")
    if not DOMAIN_RE.match(domain):
        raise ValidationError({"domain": _("“%(domain)s” is not a valid host name.") % {"domain": domain}})
    if domain == settings.BASE_DOMAIN:
        raise ValidationError({"domain": _("The base domain is the public site's; give the client its own.")})
    if Domain.objects.filter(domain=domain).exists():
        raise ValidationError({"domain": _("The domain “%(domain)s” is already in use.") % {"domain": domain}})
    return domain


def create_client(
    *,
    name: str,
    slug: str,
    admin_email: str,
    domain: str = "",
    time_zone: str = "Europe/Paris",
    language: str = "fr",
    admin_password: str | None = None,
    send_invitation: bool = False,
    max_users: int | None = None,
    api_rate: str = "",
    created_by=None,
    ip_address: str | None = None,
) -> ProvisionedClient:
    """Create a ready tenant in one step: schema (cloned from the template), domain and first admin.

    Either all of it exists afterwards or none of it does.
    """
    if not name.strip():
        raise ValidationError({"name": _("Give the client company a name.")})
    slug = validate_slug(slug)
    domain = validate_domain(domain or f"{slug}.{settings.BASE_DOMAIN}")
    admin_email = admin_email.strip().lower()
    if "@" not in admin_email:
        raise ValidationError({"admin_email": _("Enter the first admin's email address.")})
    if not schema_exists(settings.TENANT_BASE_SCHEMA):
        ensure_template_schema()

    password = None if send_invitation else (admin_password or secrets.token_urlsafe(12))
    with transaction.atomic():
        client = Client(
            name=name.strip(),
            schema_name=slug,
            timezone=time_zone,
            language=language,
            max_users=max_users,
            api_rate=api_rate,
        )
        client.save(verbosity=0)
        domain_obj = Domain.objects.create(domain=domain, tenant=client, is_primary=True)
        with schema_context(slug):
            connection.tenant = client
            # No language of their own: the portal follows their browser until they choose one.
            admin = User.objects.create_user(admin_email, password, role=Role.ADMIN, is_staff=True)
            account_services.record_audit(actor=None, action="tenant.provisioned", target=admin)
            if send_invitation:
                account_services.send_invitation(admin)
        account_services.record_audit(
            **audit_actor(created_by),
            action="client.created",
            target=client,
            ip_address=ip_address,
            slug=slug,
            domain=domain,
            max_users=max_users,
            api_rate=api_rate,
        )
    return ProvisionedClient(client, domain_obj, admin_email, password, host_url(domain, "/"))


# What staff may change on a client in place; its status changes through suspend / reactivate, its
# schema name never.
CLIENT_FIELDS = frozenset(
    {"name", "timezone", "language", "max_users", "api_rate", "raw_retention_days", "suspended_reason"}
)


def client_update(*, client: Client, by, ip_address: str | None = None, **fields) -> Client:
    """Change a client's name, locale or limits (active users, API rate per key, days of raw data
    kept), recording the fields that changed; nothing is recorded when nothing did."""
    if unknown := set(fields) - CLIENT_FIELDS:
        raise ValueError(f"Not changed through client_update: {', '.join(sorted(unknown))}")
    before = Client.objects.get(pk=client.pk)
    for field, value in fields.items():
        setattr(client, field, value)
    with transaction.atomic():
        client.save(update_fields=list(fields))
        record_saved(entity="client", instance=client, before=before, by=by, ip_address=ip_address)
    return client


def client_delete(*, client: Client, by, ip_address: str | None = None) -> None:
    """The client goes with its schema and everything in it (its domains too)."""
    audited_delete(entity="client", instance=client, by=by, ip_address=ip_address)


def domain_save(*, domain: Domain, by, ip_address: str | None = None) -> Domain:
    """A client's host name, added or changed (the admin's form filled `domain`)."""
    before = Domain.objects.filter(pk=domain.pk).first() if domain.pk else None
    with transaction.atomic():
        domain.save()
        record_saved(entity="domain", instance=domain, before=before, by=by, ip_address=ip_address)
    return domain


def domain_delete(*, domain: Domain, by, ip_address: str | None = None) -> None:
    audited_delete(entity="domain", instance=domain, by=by, ip_address=ip_address)


def suspend_client(*, client: Client, reason: str = "", by=None, ip_address: str | None = None) -> Client:
    client.status = Client.Status.SUSPENDED
    client.suspended_reason = reason.strip()
    client.suspended_at = timezone.now()
    client.save(update_fields=["status", "suspended_reason", "suspended_at"])
    record_audit(**audit_actor(by), action="client.suspended", target=client, ip_address=ip_address, reason=reason)
    return client


def reactivate_client(*, client: Client, by=None, ip_address: str | None = None) -> Client:
    client.status = Client.Status.ACTIVE
    client.suspended_reason = ""
    client.suspended_at = None
    client.save(update_fields=["status", "suspended_reason", "suspended_at"])
    record_audit(**audit_actor(by), action="client.reactivated", target=client, ip_address=ip_address)
    return client
