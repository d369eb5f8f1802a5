"""`python -m services.intake` serves intake on its port."""

from services.intake.main import bootstrap
from services.intake.settings import Settings
from shared.service import run

if __name__ == "__main__":
    settings = Settings()
    run(bootstrap(settings), settings)
