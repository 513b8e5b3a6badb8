from accounts import services
from tenants.tasks import tenant_task


@tenant_task()
def publish_revocations() -> int:
    return services.publish_revocations()
