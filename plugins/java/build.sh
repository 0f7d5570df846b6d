#!/bin/sh
# Builds the Java contract SDK: generates the gRPC code for the contract
# protocol (plugins/proto/contracts.proto), grpc.health.v1 and go-plugin's
# controller, compiles it with the SDK, and writes OUT/constellation-contract.jar.
#
#   plugins/java/build.sh OUT            build (skipped when the jar is newer than every source)
#   plugins/java/build.sh --classpath    print the Debian jars the SDK runs with, ':'-separated
#
# Needs Debian's openjdk-17-jdk-headless, protobuf-compiler,
# protobuf-compiler-grpc-java-plugin, libgrpc-java, libprotobuf-java,
# libnetty-java, libperfmark-java, libgeronimo-annotation-1.3-spec-java
# (make deps installs them). A missing one is named.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
protodir="$here/../proto"
javadir=${JAVA_DIR:-/usr/share/java}

fail() { echo "plugins/java/build.sh: $*" >&2; exit 1; }

jars="grpc-api:libgrpc-java grpc-core:libgrpc-java grpc-netty:libgrpc-java grpc-protobuf:libgrpc-java
grpc-protobuf-lite:libgrpc-java grpc-stub:libgrpc-java grpc-context:libgrpc-java protobuf:libprotobuf-java
guava:libguava-java perfmark-api:libperfmark-java geronimo-annotation-1.3-spec:libgeronimo-annotation-1.3-spec-java
netty-transport:libnetty-java netty-buffer:libnetty-java netty-common:libnetty-java netty-codec:libnetty-java
netty-codec-http2:libnetty-java netty-codec-http:libnetty-java netty-handler:libnetty-java
netty-resolver:libnetty-java netty-codec-socks:libnetty-java netty-handler-proxy:libnetty-java"

cp=""
for j in $jars; do
	f="$javadir/${j%%:*}.jar"
	[ -f "$f" ] || fail "$f is missing: apt-get install -y ${j#*:} (or make deps)"
	cp="${cp:+$cp:}$f"
done

if [ "${1:-}" = "--classpath" ]; then
	echo "$cp"
	exit 0
fi
[ $# -eq 1 ] || fail "usage: build.sh OUT | --classpath"

for t in javac:openjdk-17-jdk-headless jar:openjdk-17-jdk-headless protoc:protobuf-compiler grpc_java_plugin:protobuf-compiler-grpc-java-plugin; do
	command -v "${t%%:*}" >/dev/null 2>&1 || fail "${t%%:*} not found: apt-get install -y ${t#*:} (or make deps)"
done
v=$(javac -version 2>&1 | sed -n 's/^javac \([0-9]*\).*/\1/p')
[ -n "$v" ] && [ "$v" -ge 17 ] || fail "javac 17 or later is needed, found '$(javac -version 2>&1)': apt-get install -y openjdk-17-jdk-headless"

mkdir -p "$1"
out=$(cd "$1" && pwd)
jarfile="$out/constellation-contract.jar"
if [ -f "$jarfile" ] && [ -z "$(find "$here/src" "$here/proto" "$protodir/contracts.proto" "$protodir/common.proto" "$0" -newer "$jarfile" 2>/dev/null | head -1)" ]; then
	exit 0 # up to date
fi

work="$out/build.$$"
rm -rf "$work"
mkdir -p "$work/gen" "$work/classes"
trap 'rm -rf "$work"' EXIT

protoc --plugin=protoc-gen-grpc-java="$(command -v grpc_java_plugin)" \
	--java_out="$work/gen" --grpc-java_out="$work/gen" \
	-I "$protodir" -I "$here/proto" \
	"$protodir/common.proto" "$protodir/contracts.proto" \
	"$here/proto/grpc_health_v1.proto" "$here/proto/grpc_controller.proto" ||
	fail "protoc failed"

find "$work/gen" "$here/src" -name '*.java' | LC_ALL=C sort >"$work/sources"
javac --release 17 -nowarn -encoding UTF-8 -cp "$cp" -d "$work/classes" @"$work/sources" ||
	fail "javac failed"
# A fixed timestamp keeps the jar's bytes the same from build to build.
jar --create --date=2026-01-01T00:00:00Z --file "$work/sdk.jar" -C "$work/classes" . || fail "jar failed"
mv "$work/sdk.jar" "$jarfile"
