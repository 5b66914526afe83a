FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY archive ./archive
RUN pip install --no-cache-dir .
COPY . .
RUN python manage.py collectstatic --noinput --verbosity 0
RUN useradd --system kroniek
USER kroniek
EXPOSE 8000
# Workers, threads and timeouts: gunicorn.conf.py (WEB_WORKERS, WEB_THREADS, ...).
CMD ["gunicorn", "archive.wsgi", "--config", "gunicorn.conf.py", "--bind", "0.0.0.0:8000"]
