package chain.constellation.contract.runtime;

import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Serves one contract jar as a go-plugin gRPC plugin: checks the magic
 * cookie, listens on 127.0.0.1, prints the handshake line on stdout and serves
 * the Contract service, grpc.health.v1 and go-plugin's controller.
 *
 * <p>Usage: {@code java -cp SDK:DEPS chain.constellation.contract.runtime.Main contract.jar}.
 * The host (builtin/contracts/jvm.Command) verifies the jar first.
 */
public final class Main {
  static final String COOKIE_KEY = "CONSTELLATION_PLUGIN";
  static final String COOKIE_VALUE = "5f3c9a1e-constellation-plugin-7d2b4e80";
  static final int CORE_PROTOCOL = 1;
  static final int APP_PROTOCOL = 1;
  static final int MAX_MESSAGE = 64 << 20;

  private Main() {}

  public static void main(String[] args) throws Exception {
    if (!COOKIE_VALUE.equals(System.getenv(COOKIE_KEY))) {
      System.err.println("This is a Constellation contract plugin: the node starts it. It is not meant to be run by hand.");
      System.exit(1);
    }
    String versions = System.getenv("PLUGIN_PROTOCOL_VERSIONS");
    if (versions != null && !versions.isEmpty() && !java.util.Arrays.asList(versions.split(",")).contains(Integer.toString(APP_PROTOCOL))) {
      System.err.println("contract runtime: the host speaks protocol versions " + versions + "; this runtime speaks " + APP_PROTOCOL);
      System.exit(1);
    }
    if (args.length != 1) {
      System.err.println("usage: Main CONTRACT.jar");
      System.exit(2);
    }
    ContractDef def;
    try {
      def = ContractDef.load(Files.readAllBytes(Path.of(args[0])));
    } catch (Exception e) {
      System.err.println("contract runtime: cannot load " + args[0] + ": " + e.getMessage());
      System.exit(1);
      return;
    }
    Server[] holder = new Server[1];
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
        .maxInboundMessageSize(MAX_MESSAGE)
        .addService(new ContractService(def))
        .addService(new HealthService())
        .addService(new ControllerService(() -> shutdown(holder[0])))
        .build()
        .start();
    holder[0] = server;
    System.out.println(CORE_PROTOCOL + "|" + APP_PROTOCOL + "|tcp|127.0.0.1:" + server.getPort() + "|grpc");
    System.out.flush();
    server.awaitTermination();
    System.exit(0);
  }

  private static void shutdown(Server server) {
    Thread t = new Thread(() -> {
      server.shutdown();
      try {
        if (!server.awaitTermination(2, TimeUnit.SECONDS)) {
          server.shutdownNow();
        }
      } catch (InterruptedException ignored) {
        // exiting anyway
      }
      System.exit(0);
    }, "shutdown");
    t.setDaemon(false);
    t.start();
  }
}
