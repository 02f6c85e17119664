from fastapi import APIRouter

from app.deps import SettingsDep
from app.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", operation_id="healthz", summary="Liveness check")
async def healthz(settings: SettingsDep) -> Health:
    """Answers without calling the provider, so it is cheap enough for Fly's checks."""
    return Health(
        status="ok",
        provider=settings.provider,
        model=settings.model,
        region=settings.fly_region,
    )
