package com.example.token;

import chain.constellation.contract.Call;
import chain.constellation.contract.Codec;
import chain.constellation.contract.Contract;
import chain.constellation.contract.ContractException;
import chain.constellation.contract.Method;
import chain.constellation.contract.State;
import java.nio.charset.StandardCharsets;

/**
 * A fungible token. The star that calls {@code init} first becomes its
 * owner (deploy and init belong in one transaction); only the owner mints.
 * Balances live under "bal/" + the holder's StarID in hex.
 */
@Contract
public class Token {
  private static final String OWNER = "owner";
  private static final String SYMBOL = "symbol";
  private static final String SUPPLY = "supply";

  private static String balanceKey(String holderHex) {
    return "bal/" + holderHex;
  }

  private static String checkStar(String hex) {
    if (hex.length() != 64) {
      throw new ContractException("a star is 64 hex digits, got " + hex.length() + " characters");
    }
    for (int i = 0; i < hex.length(); i++) {
      char c = hex.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        throw new ContractException("a star is lower-case hex, got '" + c + "'");
      }
    }
    return hex;
  }

  private static long add(long a, long b) {
    long s = a + b;
    if (Long.compareUnsigned(s, a) < 0) {
      throw new ContractException("amount overflows a u64");
    }
    return s;
  }

  /** Makes the caller the owner and names the token; once only. */
  @Method
  public String init(Call call, String symbol) {
    State st = call.state();
    if (st.has(OWNER)) {
      throw new ContractException("token is already initialized");
    }
    if (symbol.isEmpty() || symbol.length() > 12) {
      throw new ContractException("symbol must be 1 to 12 characters");
    }
    st.putString(OWNER, call.callerHex());
    st.putString(SYMBOL, symbol);
    call.emit("init", (call.callerHex() + ":" + symbol).getBytes(StandardCharsets.UTF_8));
    return symbol;
  }

  /** Mints amount to the owner; returns the owner's new balance. */
  @Method
  public long mint(Call call, long amount) {
    State st = call.state();
    String owner = st.getString(OWNER);
    if (owner == null) {
      throw new ContractException("token is not initialized");
    }
    if (!owner.equals(call.callerHex())) {
      throw new ContractException("only the owner mints");
    }
    long bal = add(st.getU64(balanceKey(owner)), amount);
    st.putU64(SUPPLY, add(st.getU64(SUPPLY), amount));
    st.putU64(balanceKey(owner), bal);
    call.emit("mint", Long.toUnsignedString(amount).getBytes(StandardCharsets.UTF_8));
    return bal;
  }

  /** Moves "RECIPIENT_HEX:AMOUNT" from the caller; returns the caller's new balance. */
  @Method(input = "token.Transfer")
  public long transfer(Call call, String order) {
    int colon = order.indexOf(':');
    if (colon < 0) {
      throw new ContractException("transfer input is RECIPIENT_HEX:AMOUNT");
    }
    String to = checkStar(order.substring(0, colon));
    long amount = Codec.parseU64(order.substring(colon + 1), "amount");
    String from = call.callerHex();
    State st = call.state();
    long fromBal = st.getU64(balanceKey(from));
    if (Long.compareUnsigned(fromBal, amount) < 0) {
      throw new ContractException("balance " + Long.toUnsignedString(fromBal) + " is less than " + Long.toUnsignedString(amount));
    }
    if (!to.equals(from)) {
      st.putU64(balanceKey(from), fromBal - amount);
      st.putU64(balanceKey(to), add(st.getU64(balanceKey(to)), amount));
    }
    call.emit("transfer", (from + ">" + to + ":" + Long.toUnsignedString(amount)).getBytes(StandardCharsets.UTF_8));
    return st.getU64(balanceKey(from));
  }

  /** The balance of a star (hex). */
  @Method
  public long balance(Call call, String holderHex) {
    return call.state().getU64(balanceKey(checkStar(holderHex)));
  }

  /** The total minted. */
  @Method
  public long supply(Call call, String ignored) {
    return call.state().getU64(SUPPLY);
  }
}
