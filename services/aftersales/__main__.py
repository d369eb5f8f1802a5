"""``python -m services.aftersales`` serves the aftersales service (port 8006 by default)."""

from services.aftersales.main import bootstrap
from services.aftersales.settings import Settings
from shared.service import run

if __name__ == "__main__":
    settings = Settings()
    run(bootstrap(settings), settings)
