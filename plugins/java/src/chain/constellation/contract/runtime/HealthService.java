package chain.constellation.contract.runtime;

import chain.constellation.contract.runtime.health.HealthGrpc;
import chain.constellation.contract.runtime.health.HealthProto.HealthCheckRequest;
import chain.constellation.contract.runtime.health.HealthProto.HealthCheckResponse;
import io.grpc.stub.StreamObserver;

/** grpc.health.v1.Health: every service, "plugin" included, is serving while the process runs. */
final class HealthService extends HealthGrpc.HealthImplBase {
  private static final HealthCheckResponse SERVING =
      HealthCheckResponse.newBuilder().setStatus(HealthCheckResponse.ServingStatus.SERVING).build();

  @Override
  public void check(HealthCheckRequest req, StreamObserver<HealthCheckResponse> out) {
    out.onNext(SERVING);
    out.onCompleted();
  }

  @Override
  public void watch(HealthCheckRequest req, StreamObserver<HealthCheckResponse> out) {
    out.onNext(SERVING); // and stays open until the process ends
  }
}
