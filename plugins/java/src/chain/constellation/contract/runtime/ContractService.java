package chain.constellation.contract.runtime;

import chain.constellation.contract.Call;
import chain.constellation.contract.Codec;
import chain.constellation.contract.ContractException;
import chain.constellation.contract.State;
import com.google.protobuf.ByteString;
import constellation.plugin.v1.Common;
import constellation.plugin.v1.ContractGrpc;
import constellation.plugin.v1.Contracts.ContractInterface;
import constellation.plugin.v1.Contracts.ContractMessage;
import constellation.plugin.v1.Contracts.Event;
import constellation.plugin.v1.Contracts.HostMessage;
import constellation.plugin.v1.Contracts.InvokeRequest;
import constellation.plugin.v1.Contracts.InvokeResponse;
import constellation.plugin.v1.Contracts.KV;
import constellation.plugin.v1.Contracts.MethodSig;
import constellation.plugin.v1.Contracts.StateGetRequest;
import constellation.plugin.v1.Contracts.StateGetResponse;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.lang.reflect.InvocationTargetException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * The Contract service. Each Invoke stream runs its method on a thread of
 * its own, which blocks on a queue for each state answer: gRPC delivers a
 * stream's messages one callback at a time, so the callback thread must not
 * wait.
 */
final class ContractService extends ContractGrpc.ContractImplBase {
  private final ContractDef def;
  private final ContractInterface iface;

  ContractService(ContractDef def) {
    this.def = def;
    ContractInterface.Builder b = ContractInterface.newBuilder();
    for (ContractDef.Sig s : def.methods.values()) { // sorted by name
      b.addMethods(MethodSig.newBuilder().setName(s.name).setInputType(s.input).setOutputType(s.output));
    }
    this.iface = b.build();
  }

  @Override
  public void describe(Common.Empty req, StreamObserver<ContractInterface> out) {
    out.onNext(iface);
    out.onCompleted();
  }

  @Override
  public StreamObserver<HostMessage> invoke(StreamObserver<ContractMessage> out) {
    return new Session(out);
  }

  /** Thrown in the worker when the stream ends before a state answer comes. */
  private static final class Aborted extends RuntimeException {
    Aborted(String why) {
      super(why, null, false, false);
    }
  }

  /** Thrown in the worker when the host could not read state. */
  private static final class HostStateError extends RuntimeException {
    HostStateError(String why) {
      super(why, null, false, false);
    }
  }

  private static final Object CLOSED = new Object();

  private final class Session implements StreamObserver<HostMessage> {
    private final StreamObserver<ContractMessage> out;
    private final BlockingQueue<Object> answers = new LinkedBlockingQueue<>();
    private boolean started; // guarded by this
    private boolean finished; // guarded by this
    private Thread worker;

    Session(StreamObserver<ContractMessage> out) {
      this.out = out;
    }

    private synchronized void send(ContractMessage m) {
      if (!finished) {
        out.onNext(m);
      }
    }

    private synchronized void finish(InvokeResponse r) {
      if (finished) return;
      finished = true;
      out.onNext(ContractMessage.newBuilder().setResult(r).build());
      out.onCompleted();
    }

    private synchronized void fail(Status s) {
      if (finished) return;
      finished = true;
      out.onError(s.asRuntimeException());
    }

    @Override
    public void onNext(HostMessage m) {
      switch (m.getMsgCase()) {
        case INVOKE:
          synchronized (this) {
            if (started) {
              fail(Status.INVALID_ARGUMENT.withDescription("a second invoke on one stream"));
              return;
            }
            started = true;
          }
          InvokeRequest req = m.getInvoke();
          worker = new Thread(() -> run(req), "contract-" + req.getMethod());
          worker.setDaemon(true);
          worker.start();
          break;
        case STATE:
          answers.add(m.getState());
          break;
        default:
          fail(Status.INVALID_ARGUMENT.withDescription("an empty host message"));
      }
    }

    @Override
    public void onError(Throwable t) {
      answers.add(CLOSED);
      stopWorker();
    }

    @Override
    public void onCompleted() {
      answers.add(CLOSED);
    }

    /** The host gave up on the call (its bound, or it went away): end a worker that is still running. */
    @SuppressWarnings("deprecation")
    private void stopWorker() {
      Thread w = worker;
      if (w == null) return;
      try {
        w.join(100);
      } catch (InterruptedException ignored) {
        Thread.currentThread().interrupt();
      }
      if (w.isAlive()) {
        w.stop(); // deprecated, still effective on Java 17: a contract in an endless loop holds no locks
      }
    }

    private byte[] get(long invocation, byte[] key) {
      send(ContractMessage.newBuilder()
          .setGet(StateGetRequest.newBuilder().setInvocation(invocation).setKey(ByteString.copyFrom(key)))
          .build());
      Object a;
      try {
        a = answers.take();
      } catch (InterruptedException e) {
        throw new Aborted("interrupted");
      }
      if (!(a instanceof StateGetResponse)) {
        throw new Aborted("the host ended the call before answering a state read");
      }
      StateGetResponse r = (StateGetResponse) a;
      if (!r.getError().isEmpty()) {
        throw new HostStateError(r.getError());
      }
      return r.getOk() ? r.getValue().toByteArray() : null;
    }

    private void run(InvokeRequest req) {
      try {
        finish(execute(req));
      } catch (Aborted e) {
        fail(Status.CANCELLED.withDescription(e.getMessage()));
      } catch (HostStateError e) {
        fail(Status.ABORTED.withDescription("the host could not read state: " + e.getMessage()));
      } catch (VirtualMachineError e) {
        fail(Status.RESOURCE_EXHAUSTED.withDescription("the contract hit a JVM limit: " + e));
      } catch (ThreadDeath e) {
        fail(Status.CANCELLED.withDescription("the call was stopped"));
      } catch (Throwable e) {
        fail(Status.INTERNAL.withDescription("contract runtime: " + e));
      }
    }

    private InvokeResponse execute(InvokeRequest req) throws Throwable {
      ContractDef.Sig sig = def.methods.get(req.getMethod());
      if (sig == null) {
        return InvokeResponse.newBuilder().setError("no method \"" + req.getMethod() + "\"").build();
      }
      Object input;
      byte[] raw = req.getInput().toByteArray();
      try {
        if (sig.inType == byte[].class) {
          input = raw;
        } else if (sig.inType == String.class) {
          input = new String(raw, StandardCharsets.UTF_8);
        } else {
          input = Codec.parseU64(new String(raw, StandardCharsets.UTF_8), sig.name + ": input");
        }
      } catch (ContractException e) {
        return InvokeResponse.newBuilder().setError(e.getMessage()).build();
      }
      long inv = req.getInvocation();
      State state = new State(key -> get(inv, key));
      Call call = new Call(req.getMethod(), req.getContract().toByteArray(), req.getCodeHash().toByteArray(),
          req.getCaller().toByteArray(), req.getAmount(), req.getHeight(), req.getTimestamp(),
          req.getBeacon().toByteArray(), state);
      // A fresh loader per call: static fields start anew every time.
      ContractDef.JarLoader loader = new ContractDef.JarLoader(def.classes);
      Object result;
      try {
        Class<?> c = Class.forName(def.className, true, loader);
        Object instance = c.getConstructor().newInstance();
        result = c.getMethod(sig.javaName, Call.class, sig.inType).invoke(instance, call, input);
      } catch (InvocationTargetException e) {
        Throwable cause = e.getCause();
        if (cause instanceof ContractException) {
          return InvokeResponse.newBuilder().setError(cause.getMessage() == null ? "contract failed" : cause.getMessage()).build();
        }
        if (cause instanceof Aborted || cause instanceof HostStateError || cause instanceof Error) {
          throw cause;
        }
        // A deterministic failure of the contract's own code (a null
        // dereference, a division by zero): the call fails with its text.
        return InvokeResponse.newBuilder().setError(cause.toString()).build();
      } catch (java.lang.ExceptionInInitializerError e) {
        return InvokeResponse.newBuilder().setError("contract class initializer failed: " + e.getCause()).build();
      }
      byte[] output;
      if (result == null) {
        output = new byte[0];
      } else if (result instanceof byte[]) {
        output = (byte[]) result;
      } else if (result instanceof String) {
        output = ((String) result).getBytes(StandardCharsets.UTF_8);
      } else {
        output = Long.toUnsignedString((Long) result).getBytes(StandardCharsets.UTF_8);
      }
      InvokeResponse.Builder b = InvokeResponse.newBuilder().setOutput(ByteString.copyFrom(output));
      for (Map.Entry<byte[], byte[]> w : state.sortedWrites()) {
        KV.Builder kv = KV.newBuilder().setKey(ByteString.copyFrom(w.getKey()));
        if (w.getValue() == null) {
          kv.setDelete(true);
        } else {
          kv.setValue(ByteString.copyFrom(w.getValue()));
        }
        b.addWrites(kv);
      }
      for (Call.Event e : call.events()) {
        b.addEvents(Event.newBuilder().setTopic(e.topic).setData(ByteString.copyFrom(e.data())));
      }
      return b.build();
    }
  }
}
