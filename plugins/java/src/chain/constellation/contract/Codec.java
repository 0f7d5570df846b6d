package chain.constellation.contract;

/** The encodings of the contract interface's types, shared with the Go SDK. */
public final class Codec {
  private Codec() {}

  /** Parses canonical unsigned decimal text (no sign, no leading zeros). */
  public static long parseU64(String s, String what) {
    long v;
    try {
      v = Long.parseUnsignedLong(s);
    } catch (NumberFormatException e) {
      throw new ContractException(what + ": \"" + s + "\" is not a canonical decimal u64");
    }
    if (!Long.toUnsignedString(v).equals(s)) {
      throw new ContractException(what + ": \"" + s + "\" is not a canonical decimal u64");
    }
    return v;
  }
}
