# shellcheck shell=bash
# Sourced by ./sluice and .ci/run: sets JAVA_HOME to a JDK whose major version is at least
# SLUICE_MIN_JAVA (21), looking at $JAVA_HOME, the `java` on PATH, then the usual install
# locations (newest first; SLUICE_JDK_DIRS, space-separated directories of JDKs such as
# /usr/lib/jvm, replaces them). Returns 1 with a message on stderr when none is found.

SLUICE_MIN_JAVA=${SLUICE_MIN_JAVA:-21}

# Prints the major version of the JDK at $1, or nothing when $1 is not a JDK (java + javac).
sluice_jdk_major() {
  local home=$1 v
  [ -x "$home/bin/java" ] && [ -x "$home/bin/javac" ] || return 0
  if [ -f "$home/release" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([^"]*\)".*/\1/p' "$home/release")
  fi
  if [ -z "$v" ]; then
    v=$("$home/bin/java" -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n 1)
  fi
  v=${v#1.}          # 1.8.0 -> 8.0
  printf '%s\n' "${v%%[.+-]*}"
}

# Maven 3.9 uses sun.misc.Unsafe, which JDK 23+ warns about on every run: allow it quietly there.
sluice_quiet_maven() {
  local major
  major=$(sluice_jdk_major "$JAVA_HOME")
  if [ -n "$major" ] && [ "$major" -ge 23 ]; then
    case " ${MAVEN_OPTS:-} " in
      *" --sun-misc-unsafe-memory-access=allow "*) ;;
      *) export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow" ;;
    esac
  fi
}

sluice_find_jdk() {
  local candidates=() c major best="" best_major=0
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  if command -v java >/dev/null 2>&1; then
    candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
  fi
  for c in "${candidates[@]}"; do
    major=$(sluice_jdk_major "$c")
    if [ -n "$major" ] && [ "$major" -ge "$SLUICE_MIN_JAVA" ] 2>/dev/null; then
      export JAVA_HOME=$c
      return 0
    fi
  done
  local places=() dir where="/usr/lib/jvm and the usual places"
  if [ -n "${SLUICE_JDK_DIRS:-}" ]; then
    for dir in $SLUICE_JDK_DIRS; do places+=("$dir"/*); done
    where=$SLUICE_JDK_DIRS
  else
    places=(/usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* "$HOME"/.sdkman/candidates/java/*
            /Library/Java/JavaVirtualMachines/*/Contents/Home)
  fi
  for c in "${places[@]}"; do
    [ -d "$c" ] || continue
    major=$(sluice_jdk_major "$c")
    if [ -n "$major" ] && [ "$major" -gt "$best_major" ] 2>/dev/null; then
      best=$c; best_major=$major
    fi
  done
  if [ -n "$best" ] && [ "$best_major" -ge "$SLUICE_MIN_JAVA" ]; then
    export JAVA_HOME=$best
    return 0
  fi
  echo "sluice: no JDK $SLUICE_MIN_JAVA or newer found (looked at JAVA_HOME, PATH and $where);" \
       "install one (for example Temurin 21) or point JAVA_HOME at it" >&2
  return 1
}
