# syntax=docker/dockerfile:1
# One image for every sinergi process: the command picks it (`worker`, `gateway`, `sandbox`,
# `admin setup`, ...). Dependencies come from pyproject.toml's pinned ranges; no secret is ever baked in:
# keys, tokens and passwords arrive at run time as files (compose secrets) or environment.

ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/sinergi
WORKDIR /src
# The metadata first, so a code-only change reuses the dependency layer.
COPY pyproject.toml README.md hatch_build.py ./
RUN mkdir sinergi && touch sinergi/__init__.py \
    && /opt/sinergi/bin/pip install . \
    && /opt/sinergi/bin/pip uninstall --yes sinergi
COPY sinergi ./sinergi
RUN /opt/sinergi/bin/pip install --no-deps . \
    && /opt/sinergi/bin/python -c "import sinergi.cli"

FROM ${PYTHON_IMAGE}
ENV PATH=/opt/sinergi/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN groupadd --system --gid 10001 sinergi \
    && useradd --system --uid 10001 --gid sinergi --home-dir /home/sinergi --create-home sinergi \
    && mkdir -p /var/lib/sinergi /etc/sinergi \
    && chown sinergi:sinergi /var/lib/sinergi
COPY --from=build /opt/sinergi /opt/sinergi
USER sinergi
WORKDIR /home/sinergi
# The gateway's port; the worker listens on none, the sandbox on loopback only.
EXPOSE 8080
ENTRYPOINT ["sinergi"]
CMD ["worker"]
