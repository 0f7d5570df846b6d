package chain.constellation.contract.runtime;

import chain.constellation.contract.runtime.goplugin.ControllerProto.Empty;
import chain.constellation.contract.runtime.goplugin.GRPCControllerGrpc;
import io.grpc.stub.StreamObserver;

/** go-plugin's plugin.GRPCController: Shutdown answers, then stops the server and exits. */
final class ControllerService extends GRPCControllerGrpc.GRPCControllerImplBase {
  private final Runnable stop;

  ControllerService(Runnable stop) {
    this.stop = stop;
  }

  @Override
  public void shutdown(Empty req, StreamObserver<Empty> out) {
    out.onNext(Empty.getDefaultInstance());
    out.onCompleted();
    stop.run();
  }
}
