# Serving image: docker build -t toxicity-service .
# docker run -e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY -e MLFLOW_TRACKING_URI -p 5001:5001 toxicity-service
# The base is pinned by digest (python:3.11-slim); to move it: docker buildx imagetools inspect python:3.11-slim
FROM python:3.11-slim@sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

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
# No curl in the image: the health check is Python's own (no package manager run, nothing to pin).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/ping' % os.environ['PORT'], timeout=4)"]
# toxicity-serve handles SIGTERM itself (it runs as PID 1 here): it stops accepting, finishes the
# requests in flight (TOXICITY_DRAIN_SECONDS) and exits 0. `docker run --init` also works.
ENTRYPOINT ["/usr/local/bin/toxicity-entrypoint"]
