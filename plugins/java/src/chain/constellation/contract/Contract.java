package chain.constellation.contract;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks the contract class of a jar: a public class with a public no-argument
 * constructor whose {@link Method}-annotated methods are the contract's
 * interface. A jar holds exactly one. The runtime makes a fresh instance, in a
 * fresh class loader, for every call, so neither instance nor static fields
 * carry anything from one call to the next: state lives in {@link State}.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface Contract {}
