# CSF Portal image: web (gunicorn), Celery worker and beat all run from it.

# --- front-end assets: GOV.UK Frontend from npm, compiled with sass ----------
FROM node:20-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY static/src ./static/src
RUN mkdir -p static/dist/govuk/assets \
 && npx --no-install sass --no-source-map --style=compressed --load-path=node_modules --quiet-deps \
      static/src/portal.scss static/dist/portal.css \
 && cp static/src/portal.mjs static/dist/portal.mjs \
 && cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js static/dist/govuk/ \
 && cp -r node_modules/govuk-frontend/dist/govuk/assets/images static/dist/govuk/assets/

# --- application ---------------------------------------------------------------
FROM python:3.12-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
# WeasyPrint's libraries and fonts come from Debian, never fetched at run time.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
      libharfbuzz-subset0 fonts-dejavu-core fonts-liberation2 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 csf
WORKDIR /app
COPY pyproject.toml requirements.lock README.md ./
RUN pip install -c requirements.lock .
COPY . .
COPY --from=assets /src/static/dist ./static/dist
RUN SECRET_KEY=build-only ALLOWED_HOSTS=localhost python manage.py collectstatic --no-input \
 && mkdir -p /app/var/media && chown -R csf /app/var
USER csf
EXPOSE 8000
CMD ["gunicorn", "csf_portal.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--max-requests", "2000", "--max-requests-jitter", "200", "--access-logfile", "-"]
