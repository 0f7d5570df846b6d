package chain.constellation.contract;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;

/**
 * One invocation as a method sees it: who calls, at which height, and the
 * contract's {@link State}. Everything a method may depend on is here or in
 * its input; the block timestamp and beacon are agreed by consensus, so they
 * are the only time and entropy a contract has.
 */
public final class Call {
  /** An event the call emits. */
  public static final class Event {
    public final String topic;
    private final byte[] data;

    Event(String topic, byte[] data) {
      this.topic = topic;
      this.data = data;
    }

    public byte[] data() {
      return data.clone();
    }
  }

  private final String method;
  private final byte[] contract;
  private final byte[] codeHash;
  private final byte[] caller;
  private final long amount;
  private final long height;
  private final long timestamp;
  private final byte[] beacon;
  private final State state;
  private final List<Event> events = new ArrayList<>();

  public Call(String method, byte[] contract, byte[] codeHash, byte[] caller, long amount, long height,
      long timestamp, byte[] beacon, State state) {
    this.method = method;
    this.contract = contract.clone();
    this.codeHash = codeHash.clone();
    this.caller = caller.clone();
    this.amount = amount;
    this.height = height;
    this.timestamp = timestamp;
    this.beacon = beacon.clone();
    this.state = state;
  }

  public String method() { return method; }

  /** This contract's 32-byte StarID (its account). */
  public byte[] contract() { return contract.clone(); }

  public byte[] codeHash() { return codeHash.clone(); }

  /** The caller's 32-byte StarID. */
  public byte[] caller() { return caller.clone(); }

  /** The caller's StarID in lower-case hex, handy as part of a state key. */
  public String callerHex() { return HexFormat.of().formatHex(caller); }

  /** noOs the call moves from the caller to the contract's account (unsigned). */
  public long amount() { return amount; }

  /** The state height the call executes against. */
  public long height() { return height; }

  /** The block timestamp at that height, unix milliseconds, agreed by consensus. */
  public long timestamp() { return timestamp; }

  /** That block's hash: the call's only entropy. */
  public byte[] beacon() { return beacon.clone(); }

  public State state() { return state; }

  public void emit(String topic, byte[] data) {
    events.add(new Event(topic, data.clone()));
  }

  /** The events emitted so far, in order. For the SDK's runtime. */
  public List<Event> events() {
    return Collections.unmodifiableList(events);
  }
}
