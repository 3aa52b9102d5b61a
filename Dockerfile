# The hotline's image, for docker-compose.yml: the checkout installed as the README runs it
# (an editable install, so flows/, locales/ and data/ stay beside the package).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY flows ./flows
COPY locales ./locales
COPY data ./data
RUN pip install --no-cache-dir -e . && useradd --system --home /var/lib/hotline hotline \
    && mkdir -p /var/lib/hotline && chown hotline /var/lib/hotline
USER hotline
ENV HOTLINE_DATA_DIR=/var/lib/hotline
EXPOSE 8000
CMD ["hotline", "serve", "--host", "0.0.0.0", "--port", "8000"]
