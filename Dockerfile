FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

RUN useradd --create-home --uid 1000 panel
COPY pyproject.toml README.md ./
COPY core ./core
COPY panel ./panel
COPY accounts ./accounts
COPY providers ./providers
COPY orders ./orders
RUN pip install .
COPY . .
RUN mkdir -p var && chown -R panel:panel /app
USER panel

EXPOSE 8000
CMD ["gunicorn", "panel.wsgi", "-c", "gunicorn.conf.py", "--bind", "0.0.0.0:8000"]
