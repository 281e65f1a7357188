# Shared by ./k3j and ./run-tests: finding a JDK >= 21 and installing Debian packages on demand.

# Prints the path of a JDK whose java is version 21 or newer.
k3j_find_java_home() {
  local candidates=()
  [[ -n ${K3J_JAVA_HOME:-} ]] && candidates+=("$K3J_JAVA_HOME")
  [[ -n ${JAVA_HOME:-} ]] && candidates+=("$JAVA_HOME")
  candidates+=(/usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-2[1-9]* /usr/lib/jvm/java-2[1-9]-openjdk* /usr/lib/jvm/*)
  local c v
  for c in "${candidates[@]}"; do
    [[ -x $c/bin/java ]] || continue
    # the release file names the version without starting a JVM
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$c/release" 2>/dev/null)
    [[ -n $v ]] || v=$("$c/bin/java" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/{print $2; exit}')
    if [[ ${v%%.*} =~ ^[0-9]+$ ]] && (( ${v%%.*} >= 21 )); then echo "$c"; return 0; fi
  done
  return 1
}

# Installs the named Debian packages that are missing (needs root and apt).
k3j_ensure_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  if [[ $(id -u) != 0 ]]; then
    echo "k3j: missing packages: ${missing[*]} (run as root, or: sudo apt-get install -y ${missing[*]})" >&2
    return 1
  fi
  echo "k3j: installing ${missing[*]}..." >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
}
