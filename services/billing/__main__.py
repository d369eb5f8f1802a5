"""``python -m services.billing`` serves billing (port 8005 unless PORT/BILLING_PORT says otherwise)."""

from services.billing.main import bootstrap
from services.billing.settings import Settings
from shared.service import run

if __name__ == "__main__":
    settings = Settings()
    run(bootstrap(settings), settings)
