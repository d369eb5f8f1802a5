"""`python -m services.inventory` serves the inventory on its port."""

from services.inventory.main import bootstrap
from services.inventory.settings import Settings
from shared.service import run

if __name__ == "__main__":
    settings = Settings()
    run(bootstrap(settings), settings)
