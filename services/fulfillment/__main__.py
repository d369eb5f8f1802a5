"""`python -m services.fulfillment` serves fulfillment on its port."""

from services.fulfillment.main import bootstrap
from services.fulfillment.settings import Settings
from shared.service import run

if __name__ == "__main__":
    settings = Settings()
    run(bootstrap(settings), settings)
