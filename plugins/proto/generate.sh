#!/bin/sh
# Regenerates plugins/pb from plugins/proto. Hooked as `make proto`.
#
# Needs protoc (Debian: apt-get install -y protobuf-compiler) and the Go
# generators at pinned versions, so the committed output is reproducible:
#   go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
#   go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.5.1
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/../pb"
gobin=$(go env GOPATH)/bin
PATH="$gobin:$PATH"
export PATH

for tool in protoc protoc-gen-go protoc-gen-go-grpc; do
	command -v "$tool" >/dev/null 2>&1 || { echo "generate.sh: $tool not found (see the comment at the top)" >&2; exit 1; }
done

mkdir -p "$out"
rm -f "$out"/*.pb.go
cd "$here"
# Sorted file list and source-relative paths keep the output byte-identical
# across machines.
files=$(ls *.proto | LC_ALL=C sort)
# shellcheck disable=SC2086
protoc -I . \
	--go_out="$out" --go_opt=paths=source_relative \
	--go-grpc_out="$out" --go-grpc_opt=paths=source_relative \
	$files
