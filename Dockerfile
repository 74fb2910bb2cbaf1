# graphsvc API image. With GRAPHSVC_NEO4J_URI set (see docker-compose.yml) it talks to
# Neo4j; without it, it starts the embedded ArcadeDB from the arcadedb-embedded wheel.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Unprivileged user with a fixed uid/gid, so volume ownership is predictable.
RUN groupadd --system --gid 10001 graphsvc \
 && useradd --system --uid 10001 --gid graphsvc --home-dir /var/lib/graphsvc \
      --create-home --shell /usr/sbin/nologin graphsvc

# The locked dependencies (requirements/app.txt, with their hashes; the build backend is
# among them), in a layer of their own that source changes do not invalidate.
WORKDIR /src
COPY requirements/app.txt ./requirements/app.txt
RUN pip install --require-hashes -r requirements/app.txt
# Then graphsvc itself, with nothing more resolved: only what the wheel build needs (see
# .dockerignore); the sources are not kept.
COPY pyproject.toml README.md ./
COPY schema ./schema
COPY seed_data ./seed_data
COPY graphsvc ./graphsvc
# The version comes from git tags (pyproject.toml), and the context has no .git: pass it,
# e.g. --build-arg GRAPHSVC_VERSION=$(git describe --tags).
ARG GRAPHSVC_VERSION=0.0.0+docker
RUN SETUPTOOLS_SCM_PRETEND_VERSION=$GRAPHSVC_VERSION pip install --no-deps --no-build-isolation . \
 && rm -rf /src

WORKDIR /var/lib/graphsvc
USER 10001:10001
# Embedded store files, if no Neo4j is configured.
ENV GRAPHSVC_DATA=/var/lib/graphsvc/data

EXPOSE 8000
# python:slim has no curl; urlopen raises (exit 1) on connection errors and non-2xx.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://localhost:8000/healthz', timeout=4)"]
CMD ["graphsvc", "serve", "--host", "0.0.0.0"]
