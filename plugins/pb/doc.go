// Package pb holds the protobuf messages and gRPC stubs of the Constellation
// plugin RPC, generated from plugins/proto by plugins/proto/generate.sh
// (`make proto`). Do not edit the *.pb.go files by hand.
//
// Protobuf is only the transport between the kernel and a plugin process:
// hashed values travel inside bytes fields in their canonical interfaces
// encodings.
package pb
