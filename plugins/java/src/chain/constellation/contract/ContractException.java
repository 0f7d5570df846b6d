package chain.constellation.contract;

/**
 * A contract-level failure (bad input, not enough funds): the call fails with
 * this message, nothing is written, and no host co-signs it.
 */
public class ContractException extends RuntimeException {
  public ContractException(String message) {
    super(message);
  }
}
