"""``python -m services.logistics`` serves logistics (port 8004 unless PORT/LOGISTICS_PORT says otherwise)."""

from services.logistics.main import bootstrap
from services.logistics.settings import Settings
from shared.service import run

if __name__ == "__main__":
    settings = Settings()
    run(bootstrap(settings), settings)
