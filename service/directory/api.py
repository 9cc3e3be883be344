from __future__ import annotations

from fastapi import APIRouter, Depends

from ..deps import principal, runtime
from ..auth.principal import Principal
from ..runtime import Runtime

router = APIRouter(prefix="/v1/directory", tags=["directory"])


@router.get("")
def directory(rt: Runtime = Depends(runtime), p: Principal = Depends(principal)):
    """Districts, departments, tiers, themes, categories, meeting series and officers (channels by name and kind only)."""
    return rt.directory.public()
