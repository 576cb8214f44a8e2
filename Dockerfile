# Kiln: one async process serving Dify's Service API.
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /venv
COPY requirements.lock /tmp/requirements.lock
RUN /venv/bin/pip install --require-hashes -r /tmp/requirements.lock

FROM python:3.11-slim
ENV PATH=/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    KILN_HOST=0.0.0.0 \
    KILN_PORT=5001 \
    KILN_DATABASE_URL=sqlite+aiosqlite:////data/kiln.db
RUN useradd --uid 999 --user-group --home-dir /app --no-create-home kiln \
    && mkdir -p /app /data && chown kiln:kiln /data
COPY --from=build /venv /venv
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY alembic ./alembic
COPY app ./app
COPY examples ./examples
RUN pip install --no-deps -e .
USER kiln
EXPOSE 5001
VOLUME ["/data"]
# `kiln migrate` runs once per release (a Job or an init container); serve does not migrate.
CMD ["kiln", "serve"]
