package chain.constellation.contract.runtime;

import chain.constellation.contract.Call;
import chain.constellation.contract.Contract;
import chain.constellation.contract.Method;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.jar.JarEntry;
import java.util.jar.JarInputStream;

/**
 * A loaded contract jar: its classes' bytes, the name of its {@link Contract}
 * class and its methods. Each call gets a fresh {@link JarLoader}, so static
 * fields never carry state from one call to the next.
 */
final class ContractDef {
  /** One contract method: its interface name and types, and how to find it again in a fresh loader. */
  static final class Sig {
    final String name;
    final String javaName;
    final Class<?> inType;
    final Class<?> outType;
    final String input;
    final String output;

    Sig(String name, String javaName, Class<?> inType, Class<?> outType, String input, String output) {
      this.name = name;
      this.javaName = javaName;
      this.inType = inType;
      this.outType = outType;
      this.input = input;
      this.output = output;
    }
  }

  final Map<String, byte[]> classes;
  final String className;
  final TreeMap<String, Sig> methods = new TreeMap<>();

  private ContractDef(Map<String, byte[]> classes, String className) {
    this.classes = classes;
    this.className = className;
  }

  /** A class loader over the jar's classes, its parent the SDK's loader. */
  static final class JarLoader extends ClassLoader {
    private final Map<String, byte[]> classes;

    JarLoader(Map<String, byte[]> classes) {
      super("contract", ContractDef.class.getClassLoader());
      this.classes = classes;
    }

    @Override
    protected Class<?> findClass(String name) throws ClassNotFoundException {
      byte[] b = classes.get(name);
      if (b == null) {
        throw new ClassNotFoundException(name);
      }
      return defineClass(name, b, 0, b.length);
    }
  }

  static String typeName(Class<?> t) {
    if (t == byte[].class) return "bytes";
    if (t == String.class) return "string";
    if (t == long.class) return "u64";
    return null;
  }

  /** Reads the jar and finds its contract class; an error names what is wrong. */
  static ContractDef load(byte[] jar) throws IOException {
    Map<String, byte[]> classes = new HashMap<>();
    try (JarInputStream in = new JarInputStream(new ByteArrayInputStream(jar))) {
      for (JarEntry e; (e = in.getNextJarEntry()) != null; ) {
        String n = e.getName();
        if (e.isDirectory() || !n.endsWith(".class")) {
          continue;
        }
        classes.put(n.substring(0, n.length() - 6).replace('/', '.'), in.readAllBytes());
      }
    }
    if (classes.isEmpty()) {
      throw new IOException("the jar has no classes");
    }
    JarLoader loader = new JarLoader(classes);
    List<String> found = new ArrayList<>();
    for (String n : new TreeMap<>(classes).keySet()) {
      Class<?> c;
      try {
        c = Class.forName(n, false, loader);
      } catch (ClassNotFoundException | LinkageError e) {
        throw new IOException("class " + n + " does not load: " + e);
      }
      if (c.isAnnotationPresent(Contract.class)) {
        found.add(n);
      }
    }
    if (found.size() != 1) {
      throw new IOException("the jar must hold exactly one class annotated @Contract, found " + found);
    }
    ContractDef def = new ContractDef(classes, found.get(0));
    Class<?> c;
    try {
      c = Class.forName(def.className, false, loader);
    } catch (ClassNotFoundException e) {
      throw new IOException(e.toString());
    }
    if (!Modifier.isPublic(c.getModifiers()) || Modifier.isAbstract(c.getModifiers())) {
      throw new IOException("contract class " + def.className + " must be public and not abstract");
    }
    try {
      c.getConstructor();
    } catch (NoSuchMethodException e) {
      throw new IOException("contract class " + def.className + " needs a public no-argument constructor");
    }
    for (java.lang.reflect.Method m : c.getMethods()) {
      Method a = m.getAnnotation(Method.class);
      if (a == null) {
        continue;
      }
      String where = def.className + "." + m.getName();
      Class<?>[] ps = m.getParameterTypes();
      if (Modifier.isStatic(m.getModifiers())) {
        throw new IOException(where + ": a contract method must not be static");
      }
      if (ps.length != 2 || ps[0] != Call.class) {
        throw new IOException(where + ": a contract method takes (Call, input), input byte[], String or long");
      }
      String in = typeName(ps[1]);
      String out = typeName(m.getReturnType());
      if (in == null) {
        throw new IOException(where + ": input type " + ps[1].getName() + " is not byte[], String or long");
      }
      if (out == null) {
        throw new IOException(where + ": output type " + m.getReturnType().getName() + " is not byte[], String or long");
      }
      if (!a.input().isEmpty()) {
        if (ps[1] == long.class) throw new IOException(where + ": a long input is always u64");
        in = a.input();
      }
      if (!a.output().isEmpty()) {
        if (m.getReturnType() == long.class) throw new IOException(where + ": a long output is always u64");
        out = a.output();
      }
      String name = a.name().isEmpty() ? m.getName() : a.name();
      if (def.methods.containsKey(name)) {
        throw new IOException(where + ": method name " + name + " is used twice");
      }
      def.methods.put(name, new Sig(name, m.getName(), ps[1], m.getReturnType(), in, out));
    }
    if (def.methods.isEmpty()) {
      throw new IOException("contract class " + def.className + " has no @Method methods");
    }
    return def;
  }
}
