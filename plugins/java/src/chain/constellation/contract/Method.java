package chain.constellation.contract;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a public method of a {@link Contract} class as a contract method. It
 * takes a {@link Call} and one input and returns one output; input and output
 * are {@code byte[]} (type "bytes"), {@code String} (UTF-8, type "string") or
 * {@code long} (an unsigned 64-bit integer as canonical decimal text, type
 * "u64"), the same encodings as the Go SDK's.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface Method {
  /** The method's name in the contract interface; the Java name when empty. */
  String name() default "";

  /** Overrides the input's type name (byte[] and String inputs only), e.g. "json:vending.Order". */
  String input() default "";

  /** Overrides the output's type name (byte[] and String outputs only). */
  String output() default "";
}
