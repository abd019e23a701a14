# One image for every Switchboard service; the command picks the service:
#   switchboard serve connection | devices | messaging,  switchboard migrate
FROM python:3.11-slim AS build
WORKDIR /src
COPY . .
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SWITCHBOARD_BIND_HOST=0.0.0.0 \
    SWITCHBOARD_WEB_ROOT=/opt/switchboard
COPY --from=build /wheels /wheels
# The pages the edge serves (/widget/, /console/, /shared/, /vendor/) and the SDK code they import (/sdk/):
# plain files, no Node at run time (the socket.io bundle in web/vendor is committed).
COPY web /opt/switchboard/web
COPY sdk/js/index.js /opt/switchboard/sdk/js/index.js
COPY sdk/js/src /opt/switchboard/sdk/js/src
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels \
    && useradd --system --no-create-home --shell /usr/sbin/nologin switchboard
USER switchboard
# socket.io edge; the devices (8102/50052) and messaging (8101/50051) services listen on their own ports.
EXPOSE 8000 8101 8102 50051 50052
CMD ["switchboard", "serve", "connection"]
