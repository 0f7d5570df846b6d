package com.example.loop;

import chain.constellation.contract.Call;
import chain.constellation.contract.Contract;
import chain.constellation.contract.Method;

/** A contract for the runtime's edges: an endless loop, static state, identity hashes. */
@Contract
public class Loop {
  enum Kind { A }

  private static long calls;

  /** Never returns: the host's bound must stop it. */
  @Method
  public long spin(Call call, long n) {
    long x = n;
    while (x >= 0) {
      x = (x * 31 + 7) & 0x7fffffffffffffffL;
    }
    return x;
  }

  /** Counts calls in a static field: a fresh class loader per call keeps this at 1. */
  @Method
  public long count(Call call, long n) {
    calls++;
    return calls;
  }

  /** Identity hash codes, the same on every host under -XX:hashCode=2. */
  @Method
  public String ident(Call call, String s) {
    return new Object().toString() + " " + Kind.A.hashCode() + " " + call.hashCode();
  }
}
