# closedloop: one image for the API, the worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY routing_rules ./routing_rules
COPY service ./service
COPY workers ./workers
COPY migrations ./migrations
RUN pip install --no-cache-dir .
EXPOSE 8000
CMD ["closedloop", "serve", "--host", "0.0.0.0", "--port", "8000"]
