# Serving image: docker build -t toxicity-service .
# docker run -e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY -e MLFLOW_TRACKING_URI -p 5001:5001 toxicity-service
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# curl for the health check only.
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl=7.* \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt ./
# The CPU build of torch: PyPI's default Linux wheel bundles CUDA (several GB).
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0 \
    && pip install -r requirements.txt

COPY pyproject.toml README.md ./
COPY toxicity_pyfunc ./toxicity_pyfunc
COPY docker/entrypoint.sh /usr/local/bin/toxicity-entrypoint
RUN pip install --no-deps . \
    && useradd --create-home --uid 10001 toxicity

USER 10001
ENV MODEL_URI=models:/toxicity@champion \
    PORT=5001
EXPOSE 5001
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["sh", "-c", "curl -fsS http://127.0.0.1:${PORT}/ping || exit 1"]
ENTRYPOINT ["/usr/local/bin/toxicity-entrypoint"]
