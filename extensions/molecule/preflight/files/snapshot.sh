#!/bin/sh
# Print what a deployment could change on this host, in a stable order: the
# registry's directories, Docker's configuration, containers, volumes,
# installed packages and services. Two equal outputs mean nothing changed.
for dir in /etc/dockyard-registry /var/lib/dockyard-registry /var/cache/dockyard-registry \
    /etc/docker /srv /etc/apt/sources.list.d /etc/apt/keyrings; do
    if [ -e "$dir" ]; then
        find "$dir" -printf '%p %y %s %m %T@\n' | sort
    else
        echo "$dir absent"
    fi
done
sha256sum /etc/docker/daemon.json 2>/dev/null || echo "/etc/docker/daemon.json absent"
if command -v docker >/dev/null 2>&1; then
    docker ps -aq --no-trunc | sort | xargs -r docker inspect \
        --format '{{.Name}} {{.Image}} {{.State.Status}} {{.State.StartedAt}} {{json .HostConfig.PortBindings}}'
    docker volume ls -q | sort
else
    echo "no docker command"
fi
dpkg-query -W -f '${Package} ${Version} ${db:Status-Abbrev}\n' | sort
systemctl list-units --type=service --all --no-legend --plain | awk '{print $1, $3}' | sort
