#!/usr/bin/env bash
# Creates the secrets docker-compose.yml mounts, with random passwords, in deploy/secrets/ (not committed).
# Run once, as root, on the Docker host before `docker-compose up`; it never overwrites an existing file, so
# running it again only fills in what is missing. Each file is 0400 and owned by the user of the container that
# reads it: PostgreSQL's and RabbitMQ's images run as uid 999, CloudPortal's (deploy/Dockerfile) as APP_UID 1654.
set -euo pipefail
cd "$(dirname "$0")"
umask 077
mkdir -p secrets

random() { openssl rand -hex 24; }
write() {   # write FILE UID CONTENT
  local file="secrets/$1"
  if [ -e "$file" ]; then echo "kept    $file"; return; fi
  printf '%s\n' "$3" > "$file"
  chown "$2" "$file"
  chmod 0400 "$file"
  echo "created $file"
}

db_password=$(cat secrets/db-password 2>/dev/null || random)
mq_password=$(grep -oP '^default_pass = \K.*' secrets/rabbitmq.conf 2>/dev/null || random)

write db-password 999 "$db_password"
write database 1654 "Host=postgres;Username=cloudportal;Password=$db_password"
write rabbitmq.conf 999 "default_user = cloudportal
default_pass = $mq_password
default_user_tags.administrator = true
default_user_tags.impersonator = true"
write bus 1654 "amqp://cloudportal:$mq_password@rabbitmq:5672/"
write ec2-client-secret 1654 "$(random)"
