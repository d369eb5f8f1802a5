# One image for all six services; SERVICE selects which one runs:
#   docker build -t oms:0.1.0 .
#   docker run -e SERVICE=intake -e PORT=8001 -e AMQP_URL=... -e MONGO_URL=... oms:0.1.0
# Dependencies come from uv.lock exactly (--frozen), without the dev group
# (no test tools, no embedded store: production uses real MongoDB).

FROM python:3.11-slim AS build
# Same uv as the lock was written with; never download a Python build.
RUN pip install --no-cache-dir uv==0.13.9
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app
# Dependencies first: this layer is reused until pyproject.toml or uv.lock change.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project
COPY shared ./shared
COPY services ./services
RUN python -m compileall -q shared services

FROM python:3.11-slim
RUN groupadd --system --gid 10001 oms \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /app oms
WORKDIR /app
COPY --from=build --chown=root:root /app /app
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOST=0.0.0.0 \
    SERVICE=intake
USER 10001
EXPOSE 8001 8002 8003 8004 8005 8006
# exec: the service is PID 1 and gets SIGTERM directly (graceful shutdown).
CMD ["sh", "-c", "exec python -m \"services.${SERVICE}\""]
