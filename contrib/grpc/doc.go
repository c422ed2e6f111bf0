// Package grpc runs steady's policies around gRPC calls.
package grpc
