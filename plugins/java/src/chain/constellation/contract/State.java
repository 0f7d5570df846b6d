package chain.constellation.contract;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The contract's own state during one call. Keys are the contract's: the host
 * puts them under the contract's namespace, so a contract sees only its own.
 * Reads see the call's own writes first; every other read goes to the host,
 * which records the version it answered with. Not safe for concurrent use.
 */
public final class State {
  private static final byte[] ABSENT = new byte[0];

  private final StateSource source;
  private final Map<String, byte[]> writes = new HashMap<>(); // null value: deleted
  private final Map<String, byte[]> reads = new HashMap<>(); // ABSENT: no value

  public State(StateSource source) {
    this.source = source;
  }

  /** The value under key, or null when there is none. */
  public byte[] get(String key) {
    if (writes.containsKey(key)) {
      byte[] v = writes.get(key);
      return v == null ? null : v.clone();
    }
    byte[] v = reads.get(key);
    if (v == null) {
      v = source.get(key.getBytes(StandardCharsets.UTF_8));
      reads.put(key, v == null ? ABSENT : v.clone());
      return v;
    }
    return v == ABSENT ? null : v.clone();
  }

  public boolean has(String key) {
    return get(key) != null;
  }

  public void put(String key, byte[] value) {
    writes.put(key, value == null ? new byte[0] : value.clone());
  }

  public void delete(String key) {
    writes.put(key, null);
  }

  /** The UTF-8 text under key, or null. */
  public String getString(String key) {
    byte[] v = get(key);
    return v == null ? null : new String(v, StandardCharsets.UTF_8);
  }

  public void putString(String key, String value) {
    put(key, value.getBytes(StandardCharsets.UTF_8));
  }

  /** An unsigned counter written by putU64 (canonical decimal text); 0 when absent. */
  public long getU64(String key) {
    byte[] v = get(key);
    if (v == null) {
      return 0;
    }
    return Codec.parseU64(new String(v, StandardCharsets.UTF_8), "state key " + key);
  }

  public void putU64(String key, long value) {
    putString(key, Long.toUnsignedString(value));
  }

  /** The call's writes, sorted by key bytes; a null value is a delete. For the SDK's runtime. */
  public List<Map.Entry<byte[], byte[]>> sortedWrites() {
    List<Map.Entry<byte[], byte[]>> out = new ArrayList<>();
    for (Map.Entry<String, byte[]> e : writes.entrySet()) {
      out.add(new java.util.AbstractMap.SimpleImmutableEntry<>(e.getKey().getBytes(StandardCharsets.UTF_8), e.getValue()));
    }
    out.sort((a, b) -> Arrays.compareUnsigned(a.getKey(), b.getKey()));
    return out;
  }
}
