#!/usr/bin/env bash
# A local hallpass cluster on loopback: 3 nodes sharing one PostgreSQL (a fresh schema) and one
# Redis, with nginx in front (deploy/nginx/hallpass.conf.template).
#
#   deploy/cluster.sh start [--system-redis] [--private-postgres]
#   deploy/cluster.sh status
#   deploy/cluster.sh stop [--keep-logs]
#
# Used by deploy/cluster-test.sh (you may use them too):
#   deploy/cluster.sh node-start N | node-kill N    start node N again (same flags) | SIGKILL it
#   deploy/cluster.sh redis-stop | redis-start       stop | start the cluster's private Redis
#   deploy/cluster.sh pg-restart                     pg_ctl restart -m fast the private PostgreSQL
#   deploy/cluster.sh env                            print the cluster's state (sourceable)
#
# Every process it starts is recorded in the state directory, with its log; `stop` ends exactly
# those processes (it checks each PID still runs what was started), drops the schema and removes
# the state directory (--keep-logs keeps STATE_DIR/logs).
#
# Environment (defaults in brackets):
#   HALLPASS_CLUSTER_DIR  state directory [/tmp/hallpass-cluster]
#   HALLPASS_BIN          the hallpass binary [target/debug/hallpass of this repository]
#   PG_URL                PostgreSQL to create the schema in [postgres://root@127.0.0.1:5432/test]
#   NODE_PORTS            the nodes' ports ["18101 18102 18103"]
#   NGINX_PORT            nginx's port [18443]
#   NGINX_BIN             [nginx]
#   REDIS_PORT            port of the private Redis [6390]
#   SYSTEM_REDIS=1        same as --system-redis: use SYSTEM_REDIS_URL [redis://127.0.0.1:6379]
#                         instead of starting a private Redis
#   PRIVATE_POSTGRES=1    same as --private-postgres: initdb and run a private PostgreSQL on
#                         PRIVATE_PG_PORT [5440] (needs root: it runs as the postgres user)
#   RECONCILE_INTERVAL    the nodes' reconcile_interval [2s]
#   READY_TIMEOUT         seconds to wait for each process to become ready [60]
#
# Only loopback addresses are used: everything listens on and connects to 127.0.0.1.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$SCRIPT_DIR/.." && pwd)

STATE_DIR=${HALLPASS_CLUSTER_DIR:-/tmp/hallpass-cluster}
STATE_FILE=$STATE_DIR/cluster.env
RUN_DIR=$STATE_DIR/run
LOG_DIR=$STATE_DIR/logs

log() { printf '[cluster %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
	log "ERROR: $*"
	exit 1
}

now_ms() { date +%s%3N; }

# http_code URL [curl args...]: the status code, 000 when there is no answer.
http_code() {
	local url=$1
	shift
	curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$@" "$url" 2>/dev/null || true
}

# ---------------------------------------------------------------------------------------------
# State: cluster.env holds the settings of the running cluster; run/NAME.pid each PID started.
# ---------------------------------------------------------------------------------------------

load_state() {
	[[ -f $STATE_FILE ]] || die "no cluster state in $STATE_DIR (run: $0 start)"
	# shellcheck source=/dev/null
	source "$STATE_FILE"
}

save_var() { printf '%s=%q\n' "$1" "${!1}" >>"$STATE_FILE"; }

pid_of() { cat "$RUN_DIR/$1.pid" 2>/dev/null || true; }

# What the process recorded as NAME must still be running, else the PID was reused.
expected_cmd() {
	case $1 in
	node[0-9]*) echo "--listen 127.0.0.1:$(node_port "${1#node}")" ;;
	redis) echo "redis-server 127.0.0.1:$REDIS_PORT" ;;
	nginx) echo "$STATE_DIR/nginx/hallpass.conf" ;;
	postgres) echo "$PRIVATE_PG_DIR" ;;
	*) echo "$1" ;;
	esac
}

# alive NAME: the recorded process runs and is the one we started.
alive() {
	local pid cmdline
	pid=$(pid_of "$1")
	[[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
	cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
	[[ $cmdline == *"$(expected_cmd "$1")"* ]]
}

# started NAME: the recorded PID exists (just after `cmd &` it may not have exec'd the program
# yet, so waits for readiness use this; killing uses `alive`).
started() {
	local pid
	pid=$(pid_of "$1")
	[[ -n $pid ]] && kill -0 "$pid" 2>/dev/null
}

# stop_proc NAME [SIGNAL]: signal the recorded PID, wait (bounded) for it to exit, SIGKILL if
# it does not. Only ever the PID this script recorded.
stop_proc() {
	local name=$1 sig=${2:-TERM} pid i
	pid=$(pid_of "$name")
	if [[ -z $pid ]]; then
		return 0
	fi
	# Started a moment ago: give it time to exec the program we can recognise.
	for ((i = 0; i < 20; i++)); do
		alive "$name" || ! started "$name" && break
		sleep 0.05
	done
	if alive "$name"; then
		kill -s "$sig" "$pid" 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			log "$name (pid $pid) did not exit after SIG$sig; SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
		fi
		log "stopped $name (pid $pid)"
	fi
	rm -f "$RUN_DIR/$name.pid"
}

node_port() {
	local ports
	read -r -a ports <<<"$NODE_PORTS"
	local i=$1
	((i >= 1 && i <= ${#ports[@]})) || die "no node $i (nodes: 1..${#ports[@]})"
	echo "${ports[i - 1]}"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ---------------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------------

private_pg_ctl() {
	runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$PRIVATE_PG_DIR" \
		-o "-p $PRIVATE_PG_PORT -k $PRIVATE_PG_DIR -c listen_addresses=127.0.0.1" \
		-l "$LOG_DIR/postgres.log" -w -t 30 "$@" >>"$LOG_DIR/pg_ctl.log" 2>&1
}

record_postgres_pid() { head -n1 "$PRIVATE_PG_DIR/postmaster.pid" >"$RUN_DIR/postgres.pid"; }

start_private_postgres() {
	[[ $(id -u) == 0 ]] || die "--private-postgres needs root (it runs initdb and pg_ctl as postgres)"
	port_in_use "$PRIVATE_PG_PORT" && die "port $PRIVATE_PG_PORT is in use (PRIVATE_PG_PORT)"
	install -d -o postgres -g postgres -m 700 "$PRIVATE_PG_DIR"
	install -o postgres -g postgres -m 600 /dev/null "$LOG_DIR/postgres.log"
	log "initdb $PRIVATE_PG_DIR"
	runuser -u postgres -- /usr/lib/postgresql/15/bin/initdb -D "$PRIVATE_PG_DIR" -U postgres \
		--auth=trust --no-sync >"$LOG_DIR/initdb.log" 2>&1 || die "initdb failed: see $LOG_DIR/initdb.log"
	private_pg_ctl start || die "the private PostgreSQL did not start: see $LOG_DIR/postgres.log"
	record_postgres_pid
	log "private PostgreSQL on 127.0.0.1:$PRIVATE_PG_PORT (pid $(pid_of postgres))"
}

# ---------------------------------------------------------------------------------------------
# Redis
# ---------------------------------------------------------------------------------------------

redis_ping() { [[ $(redis-cli -h 127.0.0.1 -p "$1" PING 2>/dev/null) == PONG ]]; }

start_private_redis() {
	port_in_use "$REDIS_PORT" && die "port $REDIS_PORT is in use (REDIS_PORT)"
	redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
		--daemonize no --dir "$STATE_DIR" >>"$LOG_DIR/redis.log" 2>&1 </dev/null &
	echo $! >"$RUN_DIR/redis.pid"
	local deadline=$(($(now_ms) + READY_TIMEOUT * 1000))
	until redis_ping "$REDIS_PORT"; do
		started redis || die "redis-server exited: see $LOG_DIR/redis.log"
		(($(now_ms) < deadline)) || die "redis-server not ready after ${READY_TIMEOUT}s"
		sleep 0.1
	done
	log "private Redis on 127.0.0.1:$REDIS_PORT (pid $(pid_of redis))"
}

# ---------------------------------------------------------------------------------------------
# hallpass nodes
# ---------------------------------------------------------------------------------------------

write_node_config() {
	cat >"$NODE_CONFIG" <<EOF
# Generated by deploy/cluster.sh for a local test cluster; deploy/cluster.example.toml explains
# each setting. Every node reads this file; only --listen differs between them.
public_url = "$PUBLIC_URL"
database_url = "$DB_URL"
redis_url = "$REDIS_URL"
secret_key_file = "$STATE_DIR/secret.key"
reconcile_interval = "$RECONCILE_INTERVAL"
# Unique to this cluster, so that a shared Redis or database never mixes two clusters.
bus_channel = "$SCHEMA"
redis_key_prefix = "$SCHEMA:"
# nginx runs on loopback.
trusted_proxies = ["127.0.0.1"]
log_format = "json"

# Off, so that tests may log in as often as they like.
[rate_limit]
per_ip_per_minute = 0
account_failures_before_lockout = 0
EOF
}

# start_node N: starts node N in the background (its own session, a clean environment so no
# stray HALLPASS_* variable overrides the config) and waits until it answers /readyz.
start_node() {
	local i=$1 port name
	port=$(node_port "$i")
	name=node$i
	alive "$name" && die "$name already runs (pid $(pid_of "$name"))"
	port_in_use "$port" && die "port $port is in use"
	local env_args=(PATH="$PATH" HOME="${HOME:-/root}")
	[[ -n ${RUST_LOG:-} ]] && env_args+=(RUST_LOG="$RUST_LOG")
	printf '\n--- %s: start %s\n' "$(date -Is)" "$name" >>"$LOG_DIR/$name.log"
	env -i "${env_args[@]}" setsid "$HALLPASS_BIN" serve --config "$NODE_CONFIG" \
		--listen "127.0.0.1:$port" >>"$LOG_DIR/$name.log" 2>&1 </dev/null &
	echo $! >"$RUN_DIR/$name.pid"
	wait_node "$i"
}

wait_node() {
	local i=$1 port name deadline
	port=$(node_port "$i")
	name=node$i
	deadline=$(($(now_ms) + READY_TIMEOUT * 1000))
	until [[ $(http_code "http://127.0.0.1:$port/readyz") == 200 ]]; do
		if ! started "$name"; then
			tail -n 20 "$LOG_DIR/$name.log" >&2 || true
			die "$name exited: see $LOG_DIR/$name.log"
		fi
		(($(now_ms) < deadline)) || die "$name not ready after ${READY_TIMEOUT}s: see $LOG_DIR/$name.log"
		sleep 0.1
	done
	log "$name ready on 127.0.0.1:$port (pid $(pid_of "$name"))"
}

# ---------------------------------------------------------------------------------------------
# nginx
# ---------------------------------------------------------------------------------------------

start_nginx() {
	local conf=$STATE_DIR/nginx/hallpass.conf ports
	read -r -a ports <<<"$NODE_PORTS"
	((${#ports[@]} == 3)) || die "the nginx template names 3 nodes; NODE_PORTS has ${#ports[@]}"
	port_in_use "$NGINX_PORT" && die "port $NGINX_PORT is in use (NGINX_PORT)"
	mkdir -p "$STATE_DIR/nginx"
	sed -e "s|@USER@|$(id -un)|g" \
		-e "s|@PREFIX@|$STATE_DIR/nginx|g" \
		-e "s|@LOG_DIR@|$LOG_DIR|g" \
		-e "s|@LISTEN@|127.0.0.1:$NGINX_PORT|g" \
		-e "s|@NODE1@|127.0.0.1:${ports[0]}|g" \
		-e "s|@NODE2@|127.0.0.1:${ports[1]}|g" \
		-e "s|@NODE3@|127.0.0.1:${ports[2]}|g" \
		-e "s|@PRIVATE_ROOT@|$SCRIPT_DIR/private|g" \
		"$SCRIPT_DIR/nginx/hallpass.conf.template" >"$conf"
	if grep -n '@[A-Z_0-9]*@' "$conf" >&2; then
		die "unrendered placeholders in $conf"
	fi
	"$NGINX_BIN" -t -q -c "$conf" -p "$STATE_DIR/nginx" >>"$LOG_DIR/nginx.log" 2>&1 ||
		die "nginx -t rejected $conf: see $LOG_DIR/nginx.log"
	"$NGINX_BIN" -c "$conf" -p "$STATE_DIR/nginx" >>"$LOG_DIR/nginx.log" 2>&1 </dev/null &
	echo $! >"$RUN_DIR/nginx.pid"
	local deadline=$(($(now_ms) + READY_TIMEOUT * 1000))
	until [[ $(http_code "$PUBLIC_URL/healthz") == 200 ]]; do
		started nginx || die "nginx exited: see $LOG_DIR/nginx.log and nginx-error.log"
		(($(now_ms) < deadline)) || die "nginx not ready after ${READY_TIMEOUT}s"
		sleep 0.1
	done
	log "nginx on $PUBLIC_URL (pid $(pid_of nginx))"
}

# ---------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------

cmd_start() {
	local system_redis=${SYSTEM_REDIS:-0} private_pg=${PRIVATE_POSTGRES:-0}
	while (($#)); do
		case $1 in
		--system-redis) system_redis=1 ;;
		--private-postgres) private_pg=1 ;;
		*) die "start: unknown option $1" ;;
		esac
		shift
	done

	if [[ -f $STATE_FILE ]]; then
		die "$STATE_DIR holds a cluster already: run '$0 stop' first (or set HALLPASS_CLUSTER_DIR)"
	fi

	HALLPASS_BIN=${HALLPASS_BIN:-$REPO_DIR/target/debug/hallpass}
	[[ $HALLPASS_BIN == /* ]] || HALLPASS_BIN=$PWD/$HALLPASS_BIN
	[[ -x $HALLPASS_BIN ]] || die "no hallpass binary at $HALLPASS_BIN (cargo build -p hallpass-server, or set HALLPASS_BIN)"
	NGINX_BIN=${NGINX_BIN:-nginx}
	command -v "$NGINX_BIN" >/dev/null || die "nginx not found (apt-get install nginx)"
	for tool in curl psql openssl redis-cli; do
		command -v "$tool" >/dev/null || die "$tool not found"
	done
	NODE_PORTS=${NODE_PORTS:-18101 18102 18103}
	NGINX_PORT=${NGINX_PORT:-18443}
	REDIS_PORT=${REDIS_PORT:-6390}
	PRIVATE_PG_PORT=${PRIVATE_PG_PORT:-5440}
	RECONCILE_INTERVAL=${RECONCILE_INTERVAL:-2s}
	READY_TIMEOUT=${READY_TIMEOUT:-60}
	PUBLIC_URL=http://127.0.0.1:$NGINX_PORT
	NODE_CONFIG=$STATE_DIR/hallpass.toml
	PRIVATE_PG_DIR=$STATE_DIR/pg
	SCHEMA=hallpass_cluster_$(date +%s)_$$

	if ((private_pg)); then
		PG_MODE=private
		PG_BASE_URL=postgres://postgres@127.0.0.1:$PRIVATE_PG_PORT/postgres
	else
		PG_MODE=system
		PG_BASE_URL=${PG_URL:-postgres://root@127.0.0.1:5432/test}
	fi
	[[ $PG_BASE_URL =~ ^postgres(ql)?://[^@/]*@?(127\.0\.0\.1|localhost)(:[0-9]+)?/ ]] ||
		die "PG_URL must point at 127.0.0.1: $PG_BASE_URL"
	local sep='?'
	[[ $PG_BASE_URL == *\?* ]] && sep='&'
	DB_URL="$PG_BASE_URL${sep}options=-c%20search_path%3D$SCHEMA"

	if ((system_redis)); then
		REDIS_MODE=system
		REDIS_URL=${SYSTEM_REDIS_URL:-redis://127.0.0.1:6379}
		[[ $REDIS_URL =~ ^redis://(127\.0\.0\.1|localhost)(:([0-9]+))?(/.*)?$ ]] ||
			die "SYSTEM_REDIS_URL must point at 127.0.0.1: $REDIS_URL"
		REDIS_PORT=${BASH_REMATCH[3]:-6379}
	else
		REDIS_MODE=private
		REDIS_URL=redis://127.0.0.1:$REDIS_PORT
	fi

	local port
	for port in $NODE_PORTS $NGINX_PORT; do
		port_in_use "$port" && die "port $port is in use"
	done

	mkdir -p "$RUN_DIR" "$LOG_DIR"
	chmod 755 "$STATE_DIR"
	: >"$STATE_FILE"
	for var in HALLPASS_BIN NGINX_BIN NODE_PORTS NGINX_PORT REDIS_PORT REDIS_MODE REDIS_URL \
		PG_MODE PG_BASE_URL PRIVATE_PG_PORT PRIVATE_PG_DIR SCHEMA DB_URL PUBLIC_URL NODE_CONFIG \
		RECONCILE_INTERVAL READY_TIMEOUT; do
		save_var "$var"
	done

	# From here on, a failure stops whatever was started.
	trap 'log "start failed; stopping what was started (logs kept in $LOG_DIR)"; cmd_stop --keep-logs || true' EXIT

	[[ $PG_MODE == private ]] && start_private_postgres
	psql "$PG_BASE_URL" -v ON_ERROR_STOP=1 -qc "CREATE SCHEMA $SCHEMA" >/dev/null ||
		die "cannot create schema $SCHEMA in $PG_BASE_URL"
	log "schema $SCHEMA in $PG_BASE_URL"

	if [[ $REDIS_MODE == private ]]; then
		start_private_redis
	else
		redis_ping "$REDIS_PORT" || die "no Redis answers at $REDIS_URL"
		log "system Redis at $REDIS_URL (bus channel and key prefix $SCHEMA)"
	fi

	# One key for all nodes, created up front rather than by whichever node starts first.
	(umask 077 && openssl rand -hex 32 >"$STATE_DIR/secret.key")
	write_node_config

	# Start the nodes together (migrations take a lock), then wait for each.
	local i n
	read -r -a _ports <<<"$NODE_PORTS"
	n=${#_ports[@]}
	for ((i = 1; i <= n; i++)); do
		start_node "$i" &
	done
	local failed=0
	for ((i = 1; i <= n; i++)); do
		wait -n || failed=1
	done
	((failed == 0)) || die "a node did not start"

	start_nginx
	trap - EXIT

	cat <<EOF
hallpass cluster running ($STATE_DIR)
  nginx        $PUBLIC_URL   (try $PUBLIC_URL/signup, $PUBLIC_URL/private/)
  nodes        $(for p in $NODE_PORTS; do printf 'http://127.0.0.1:%s ' "$p"; done)
  PostgreSQL   $PG_BASE_URL ($PG_MODE), schema $SCHEMA
  Redis        $REDIS_URL ($REDIS_MODE)
  node config  $NODE_CONFIG
  logs         $LOG_DIR
EOF
}

cmd_stop() {
	local keep_logs=0
	while (($#)); do
		case $1 in
		--keep-logs) keep_logs=1 ;;
		*) die "stop: unknown option $1" ;;
		esac
		shift
	done
	if [[ ! -f $STATE_FILE ]]; then
		log "no cluster state in $STATE_DIR: nothing to stop"
		return 0
	fi
	load_state

	stop_proc nginx TERM
	# The nodes in parallel (each finishes its requests first).
	local f name waits=()
	for f in "$RUN_DIR"/node*.pid; do
		[[ -e $f ]] || continue
		name=$(basename "$f" .pid)
		stop_proc "$name" TERM &
		waits+=($!)
	done
	((${#waits[@]} == 0)) || wait "${waits[@]}"

	# Drop the schema (the private PostgreSQL goes away whole).
	if [[ $PG_MODE == system ]]; then
		if psql "$PG_BASE_URL" -v ON_ERROR_STOP=1 -qc "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1; then
			log "dropped schema $SCHEMA"
		else
			log "WARNING: could not drop schema $SCHEMA in $PG_BASE_URL"
		fi
	fi

	if [[ $REDIS_MODE == private ]]; then
		stop_proc redis TERM
	elif redis_ping "$REDIS_PORT"; then
		# The system Redis: remove this cluster's keys (rate-limit counters), nothing else.
		redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --scan --pattern "$SCHEMA:*" 2>/dev/null |
			xargs -r -n 100 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" DEL >/dev/null 2>&1 || true
	fi

	if [[ $PG_MODE == private && -d $PRIVATE_PG_DIR ]]; then
		if [[ -f $PRIVATE_PG_DIR/postmaster.pid ]]; then
			record_postgres_pid
			if alive postgres; then
				private_pg_ctl -m fast stop || stop_proc postgres INT
				log "stopped the private PostgreSQL (pid $(pid_of postgres))"
			fi
		fi
		rm -f "$RUN_DIR/postgres.pid"
		rm -rf "$PRIVATE_PG_DIR"
	fi

	rm -f "$STATE_DIR/secret.key"
	if ((keep_logs)); then
		find "$STATE_DIR" -mindepth 1 -maxdepth 1 ! -name logs -exec rm -rf {} +
		log "stopped; logs kept in $LOG_DIR"
	else
		rm -rf "$STATE_DIR"
		log "stopped; removed $STATE_DIR"
	fi
}

cmd_status() {
	load_state
	local bad=0 name pid code i port
	echo "hallpass cluster ($STATE_DIR): schema $SCHEMA, PostgreSQL $PG_MODE, Redis $REDIS_MODE"
	for name in nginx $(for ((i = 1; i <= $(wc -w <<<"$NODE_PORTS"); i++)); do echo "node$i"; done) \
		$([[ $REDIS_MODE == private ]] && echo redis) $([[ $PG_MODE == private ]] && echo postgres); do
		pid=$(pid_of "$name")
		if alive "$name"; then
			printf '  %-9s pid %-8s running\n' "$name" "$pid"
		else
			printf '  %-9s pid %-8s NOT RUNNING\n' "$name" "${pid:--}"
			bad=1
		fi
	done
	code=$(http_code "$PUBLIC_URL/healthz")
	printf '  %-40s %s\n' "$PUBLIC_URL/healthz (nginx)" "$code"
	[[ $code == 200 ]] || bad=1
	i=0
	for port in $NODE_PORTS; do
		i=$((i + 1))
		code=$(http_code "http://127.0.0.1:$port/healthz")
		printf '  %-40s %s\n' "http://127.0.0.1:$port/healthz (node$i)" "$code"
		[[ $code == 200 ]] || bad=1
	done
	if redis_ping "$REDIS_PORT"; then
		printf '  %-40s %s\n' "$REDIS_URL" PONG
	else
		printf '  %-40s %s\n' "$REDIS_URL" "NO ANSWER"
		bad=1
	fi
	return "$bad"
}

cmd_node_start() {
	load_state
	[[ $# == 1 ]] || die "usage: $0 node-start N"
	start_node "$1"
}

cmd_node_kill() {
	load_state
	[[ $# == 1 ]] || die "usage: $0 node-kill N"
	local name=node$1 pid
	node_port "$1" >/dev/null
	alive "$name" || die "$name is not running"
	pid=$(pid_of "$name")
	kill -KILL "$pid"
	log "SIGKILL $name (pid $pid)"
	rm -f "$RUN_DIR/$name.pid"
}

cmd_redis_stop() {
	load_state
	[[ $REDIS_MODE == private ]] || die "the cluster uses the system Redis, which this script never stops"
	stop_proc redis TERM
}

cmd_redis_start() {
	load_state
	[[ $REDIS_MODE == private ]] || die "the cluster uses the system Redis"
	alive redis && die "redis already runs (pid $(pid_of redis))"
	start_private_redis
}

cmd_pg_restart() {
	load_state
	[[ $PG_MODE == private ]] || die "the cluster uses the system PostgreSQL, which this script never restarts"
	private_pg_ctl -m fast restart || die "pg_ctl restart failed: see $LOG_DIR/postgres.log"
	record_postgres_pid
	log "restarted the private PostgreSQL (pid $(pid_of postgres))"
}

usage() {
	sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
	exit 2
}

main() {
	local cmd=${1:-}
	(($#)) && shift
	case $cmd in
	start) cmd_start "$@" ;;
	stop) cmd_stop "$@" ;;
	status) cmd_status "$@" ;;
	node-start) cmd_node_start "$@" ;;
	node-kill) cmd_node_kill "$@" ;;
	redis-stop) cmd_redis_stop "$@" ;;
	redis-start) cmd_redis_start "$@" ;;
	pg-restart) cmd_pg_restart "$@" ;;
	env) load_state && cat "$STATE_FILE" ;;
	*) usage ;;
	esac
}

main "$@"
