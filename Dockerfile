# The Wishlist image: one image for the web server, the Celery worker and Celery beat.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=wishlist.settings \
    WISHLIST_DATA_DIR=/data \
    STATIC_ROOT=/app/staticfiles

WORKDIR /app

# The PDF cohort report (WeasyPrint) needs Pango and a font from Debian.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
       libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first, so that code changes do not reinstall them.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# Static files are collected into the image (outside the /data volume, which would hide
# them). Settings refuse to load with DEBUG off and no key, so this one step gets a
# throwaway key that is not stored in the image's environment and signs nothing.
RUN SECRET_KEY=collectstatic-build-only-not-a-secret DEBUG=0 ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput

RUN useradd --system --uid 10001 --home-dir /app wishlist \
    && mkdir -p /data \
    && chown wishlist /data
USER wishlist
VOLUME ["/data"]

EXPOSE 8000
# No HEALTHCHECK here: the worker and beat run this image without a web server;
# docker-compose.yml checks the web service itself.
CMD ["gunicorn", "wishlist.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
