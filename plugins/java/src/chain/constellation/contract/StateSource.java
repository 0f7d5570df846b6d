package chain.constellation.contract;

/** Where a {@link State} reads committed values: the host, through the SDK's runtime. */
public interface StateSource {
  /** The value under key, or null when the key has none. */
  byte[] get(byte[] key);
}
