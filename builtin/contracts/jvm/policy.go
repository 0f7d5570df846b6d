package jvm

import "strings"

// The allow-list. What it must cover follows Corda's deterministic JVM
// sandbox (the DJVM, corda/djvm), which lists the JDK's sources of
// non-determinism: I/O, threads and synchronization, reflection, clocks,
// randomness, native code, class loading, finalizers, garbage-collector
// dependent references, identity hashes, the environment (system
// properties, locale, time zone, default charset) and platform-dependent
// floating point. The DJVM rewrites a contract's bytecode into a sandbox;
// this package only checks it and refuses, so the list below is
// deliberately narrow: a class not named here is refused.
//
// Decisions recorded here:
//
//   - float and double are allowed. Since Java 17 (JEP 306) every
//     floating-point operation is strict IEEE 754, so + - * / and the
//     conversions give identical bits on every platform. Math's
//     transcendental functions (sin, exp, pow, …) may use CPU intrinsics
//     that differ in the last bit, so they are refused in favour of
//     StrictMath, which is specified bit for bit (fdlibm). The raw-bits
//     conversions (Float.floatToRawIntBits, Double.doubleToRawLongBits)
//     expose NaN payloads, which differ between CPU families, and are
//     refused; floatToIntBits and doubleToLongBits canonicalize NaN.
//   - HashMap and HashSet are allowed: their iteration order is a function
//     of the keys' hashCodes, the insertion sequence and the JDK's code,
//     all fixed given the same inputs on the pinned openjdk 17. Identity
//     hash codes (Object.hashCode not overridden, Enum.hashCode) are the
//     exception, so the host starts the JVM with -XX:hashCode=2, which
//     makes every identity hash the constant 1 (see Command).
//     System.identityHashCode, IdentityHashMap and WeakHashMap are refused,
//     and so are Set.of, Map.of and their copies, whose iteration order is
//     salted per JVM run.
//     For anything whose order reaches state or output, TreeMap or
//     LinkedHashMap is the clearer choice.
//   - invokedynamic is allowed only with the bootstraps javac emits for
//     string concatenation (StringConcatFactory), lambdas and method
//     references (LambdaMetafactory) and records (ObjectMethods). The
//     method a lambda or method reference points to is checked like a
//     call, so System::currentTimeMillis as a Supplier is refused too.
//   - Locale- and charset-dependent methods without an explicit Locale or
//     Charset (String.format, toUpperCase(), getBytes(), new String(byte[]))
//     are refused: the default locale and charset are the machine's.

// rule is the policy for one JDK class.
type rule struct {
	// deny, if non-empty, refuses the whole class with this reason.
	deny string
	// only, when non-nil, lists the members allowed; others are refused
	// (with the reason in denyMember if one is given, else as not listed).
	only map[string]bool
	// denyMember refuses single members of an otherwise allowed class,
	// by name or by name+descriptor, with a reason.
	denyMember map[string]string
	// parent is the rule whose member denials also apply (the JDK
	// superclass), "" for none.
	parent string
}

// Reasons, shared so the messages stay uniform.
const (
	whyIO         = "I/O is not deterministic"
	whyThreads    = "threads and synchronization are not deterministic"
	whyReflection = "reflection is not allowed"
	whyClock      = "clocks are not deterministic"
	whyRandom     = "randomness is not deterministic"
	whyNative     = "native methods are not allowed"
	whyLoading    = "class loading is not allowed"
	whyRuntime    = "the process and the runtime are off limits"
	whyGC         = "garbage-collector-dependent behaviour is not deterministic"
	whyEnv        = "the machine's environment (properties, locale, charset, time zone) is not deterministic"
	whyIdentity   = "identity hash codes are not deterministic"
	whyInternal   = "JDK internals are off limits"
	whyFloat      = "may differ in the last bit between CPUs; use StrictMath"
	whyNaN        = "exposes NaN payloads, which differ between CPUs; use the canonical floatToIntBits/doubleToLongBits"
	whyParallel   = "parallel streams run on threads, which is not deterministic"
	whySDKRuntime = "the SDK's runtime is not callable from a contract"
	whyPrime      = "probabilistic primality tests use randomness"
	whyNotListed  = "is not on the allow-list of deterministic classes"
	whySalted     = "immutable sets and maps iterate in an order salted per JVM run; use a TreeSet/TreeMap or LinkedHashSet/LinkedHashMap"
)

// SDKPackage is the Java package of the contract SDK's API (slashes, as
// in class files). Its runtime lives below it in SDKRuntimePackage and is
// refused: it does the I/O.
const (
	SDKPackage        = "chain/constellation/contract/"
	SDKRuntimePackage = "chain/constellation/contract/runtime/"
)

// deniedPackages refuses whole packages (prefixes), checked in order after
// the per-class rules, so a class listed in rules is decided there.
var deniedPackages = []struct{ prefix, why string }{
	{SDKRuntimePackage, whySDKRuntime},
	{"java/io/", whyIO},
	{"java/nio/", whyIO},
	{"java/net/", whyIO},
	{"javax/net/", whyIO},
	{"java/sql/", whyIO},
	{"java/rmi/", whyIO},
	{"java/util/zip/", whyIO},
	{"java/util/jar/", whyIO},
	{"java/util/logging/", whyIO},
	{"java/util/prefs/", whyIO},
	{"java/util/concurrent/", whyThreads},
	{"java/lang/reflect/", whyReflection},
	{"java/lang/invoke/", whyReflection},
	{"java/lang/annotation/", whyReflection},
	{"java/lang/constant/", whyReflection},
	{"java/lang/runtime/", whyReflection},
	{"java/lang/ref/", whyGC},
	{"java/lang/management/", whyRuntime},
	{"java/lang/instrument/", whyLoading},
	{"java/util/random/", whyRandom},
	{"java/time/zone/", whyEnv},
	{"java/time/chrono/", whyEnv},
	{"java/time/format/", whyEnv},
	{"java/security/", whyRandom + " or depends on providers"},
	{"javax/crypto/", whyRandom + " or depends on providers"},
	{"java/text/", whyEnv},
	{"java/beans/", whyReflection},
	{"java/awt/", whyIO},
	{"javax/", whyNotListed},
	{"sun/", whyInternal},
	{"jdk/", whyInternal},
	{"com/sun/", whyInternal},
}

// globalDeny refuses members on any class: Object's monitor methods are
// reachable through every receiver type.
var globalDeny = map[string]string{
	"wait":      whyThreads,
	"notify":    whyThreads,
	"notifyAll": whyThreads,
}

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

var throwableDeny = map[string]string{
	"printStackTrace":     whyIO,
	"setStackTrace":       whyReflection,
	"getStackTrace":       "stack traces depend on the host's frames",
	"fillInStackTrace":    "stack traces depend on the host's frames",
	"getLocalizedMessage": whyEnv,
}

var mathDeny = map[string]string{
	"random": whyRandom,
	"sin":    whyFloat, "cos": whyFloat, "tan": whyFloat, "asin": whyFloat, "acos": whyFloat,
	"atan": whyFloat, "atan2": whyFloat, "exp": whyFloat, "expm1": whyFloat, "log": whyFloat,
	"log10": whyFloat, "log1p": whyFloat, "pow": whyFloat, "cbrt": whyFloat, "sinh": whyFloat,
	"cosh": whyFloat, "tanh": whyFloat, "hypot": whyFloat,
}

var boxDeny = map[string]string{
	"getInteger": whyEnv, "getLong": whyEnv, "getBoolean": whyEnv,
	"floatToRawIntBits": whyNaN, "doubleToRawLongBits": whyNaN,
}

var stringDeny = map[string]string{
	"format":                          whyEnv,
	"formatted":                       whyEnv,
	"toUpperCase()Ljava/lang/String;": whyEnv,
	"toLowerCase()Ljava/lang/String;": whyEnv,
	"getBytes()[B":                    whyEnv,
	"getBytes(Ljava/lang/String;)[B":  whyEnv,
	"<init>([B)V":                     whyEnv,
	"<init>([BII)V":                   whyEnv,
	"<init>([BLjava/lang/String;)V":   whyEnv,
	"<init>([BIILjava/lang/String;)V": whyEnv,
	"getChars(II[BI)V":                whyEnv,
}

var streamDeny = map[string]string{"parallel": whyParallel, "parallelStream": whyParallel,
	"toUnmodifiableSet": whySalted, "toUnmodifiableMap": whySalted}

// Set.of, Map.of and their copies iterate in an order salted per JVM run
// (ImmutableCollections.SALT comes from the clock at start-up).
var saltedDeny = map[string]string{"of": whySalted, "copyOf": whySalted, "ofEntries": whySalted}

var collectionDeny = map[string]string{"parallelStream": whyParallel}

var timeDeny = map[string]string{"now": whyClock, "systemDefault": whyEnv, "atZone": whyEnv, "ofInstant": whyEnv}

func mergeDeny(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func allowAll(parent string, deny map[string]string) *rule {
	return &rule{parent: parent, denyMember: deny}
}

var rules = map[string]*rule{
	// java.lang
	"java/lang/Object":        {denyMember: map[string]string{"finalize": whyGC}},
	"java/lang/String":        allowAll("java/lang/Object", stringDeny),
	"java/lang/StringBuilder": allowAll("java/lang/Object", nil),
	"java/lang/StringBuffer":  allowAll("java/lang/Object", nil),
	"java/lang/CharSequence":  allowAll("", nil),
	"java/lang/Character":     allowAll("java/lang/Object", nil),
	"java/lang/Number":        allowAll("java/lang/Object", nil),
	"java/lang/Integer":       allowAll("java/lang/Number", boxDeny),
	"java/lang/Long":          allowAll("java/lang/Number", boxDeny),
	"java/lang/Short":         allowAll("java/lang/Number", nil),
	"java/lang/Byte":          allowAll("java/lang/Number", nil),
	"java/lang/Boolean":       allowAll("java/lang/Object", boxDeny),
	"java/lang/Float":         allowAll("java/lang/Number", boxDeny),
	"java/lang/Double":        allowAll("java/lang/Number", boxDeny),
	"java/lang/Void":          allowAll("java/lang/Object", nil),
	"java/lang/Math":          allowAll("java/lang/Object", mathDeny),
	"java/lang/StrictMath":    allowAll("java/lang/Object", map[string]string{"random": whyRandom}),
	"java/lang/Comparable":    allowAll("", nil),
	"java/lang/Iterable":      allowAll("", nil),
	"java/lang/AutoCloseable": allowAll("", nil),
	"java/lang/Cloneable":     allowAll("", nil),
	"java/lang/Runnable":      allowAll("", nil),
	"java/lang/Enum":          allowAll("java/lang/Object", nil),
	"java/lang/Record":        allowAll("java/lang/Object", nil),
	"java/lang/CharacterData": {deny: whyInternal},
	"java/lang/Class": {only: set("getName", "getSimpleName", "getTypeName", "isInstance", "cast",
		"isArray", "isEnum", "isRecord", "isInterface", "desiredAssertionStatus", "equals", "hashCode", "toString"),
		denyMember: map[string]string{"forName": whyLoading, "getClassLoader": whyLoading, "getResource": whyIO,
			"getResourceAsStream": whyIO, "newInstance": whyReflection, "getMethod": whyReflection,
			"getMethods": whyReflection, "getDeclaredMethod": whyReflection, "getDeclaredMethods": whyReflection,
			"getField": whyReflection, "getFields": whyReflection, "getDeclaredField": whyReflection,
			"getDeclaredFields": whyReflection, "getConstructor": whyReflection, "getConstructors": whyReflection,
			"getDeclaredConstructor": whyReflection, "getDeclaredConstructors": whyReflection}},
	"java/lang/System": {only: set("arraycopy"), denyMember: map[string]string{
		"currentTimeMillis": whyClock, "nanoTime": whyClock,
		"exit": whyRuntime, "halt": whyRuntime, "gc": whyGC, "runFinalization": whyGC,
		"in": whyIO, "out": whyIO, "err": whyIO, "console": whyIO, "setIn": whyIO, "setOut": whyIO, "setErr": whyIO,
		"inheritedChannel": whyIO, "getLogger": whyIO,
		"getProperty": whyEnv, "getProperties": whyEnv, "setProperty": whyEnv, "setProperties": whyEnv,
		"clearProperty": whyEnv, "getenv": whyEnv, "lineSeparator": whyEnv,
		"identityHashCode": whyIdentity,
		"load":             whyNative, "loadLibrary": whyNative, "mapLibraryName": whyNative,
		"getSecurityManager": whyRuntime, "setSecurityManager": whyRuntime,
	}},
	"java/lang/Runtime":                {deny: whyRuntime},
	"java/lang/Process":                {deny: whyRuntime},
	"java/lang/ProcessBuilder":         {deny: whyRuntime},
	"java/lang/ProcessHandle":          {deny: whyRuntime},
	"java/lang/Shutdown":               {deny: whyRuntime},
	"java/lang/SecurityManager":        {deny: whyRuntime},
	"java/lang/StackWalker":            {deny: whyReflection},
	"java/lang/Thread":                 {deny: whyThreads},
	"java/lang/ThreadGroup":            {deny: whyThreads},
	"java/lang/ThreadLocal":            {deny: whyThreads},
	"java/lang/InheritableThreadLocal": {deny: whyThreads},
	"java/lang/ThreadDeath":            {deny: whyThreads},
	"java/lang/ClassLoader":            {deny: whyLoading},
	"java/lang/Module":                 {deny: whyLoading},
	"java/lang/ModuleLayer":            {deny: whyLoading},
	"java/lang/Package":                {deny: whyLoading},
	"java/lang/ClassValue":             {deny: whyReflection},
	"java/lang/Compiler":               {deny: whyLoading},

	// Exceptions a contract may throw and catch. Errors that report the
	// JVM's own limits (StackOverflowError, OutOfMemoryError, other
	// VirtualMachineErrors) depend on the host and are refused as catch
	// types (see verify.go); they are not listed here at all.
	"java/lang/Throwable":                       allowAll("java/lang/Object", throwableDeny),
	"java/lang/Exception":                       allowAll("java/lang/Throwable", nil),
	"java/lang/RuntimeException":                allowAll("java/lang/Throwable", nil),
	"java/lang/Error":                           allowAll("java/lang/Throwable", nil),
	"java/lang/AssertionError":                  allowAll("java/lang/Throwable", nil),
	"java/lang/LinkageError":                    allowAll("java/lang/Throwable", nil),
	"java/lang/NoSuchFieldError":                allowAll("java/lang/Throwable", nil), // javac's enum switch maps
	"java/lang/IncompatibleClassChangeError":    allowAll("java/lang/Throwable", nil),
	"java/lang/IllegalArgumentException":        allowAll("java/lang/Throwable", nil),
	"java/lang/IllegalStateException":           allowAll("java/lang/Throwable", nil),
	"java/lang/ArithmeticException":             allowAll("java/lang/Throwable", nil),
	"java/lang/NullPointerException":            allowAll("java/lang/Throwable", nil),
	"java/lang/IndexOutOfBoundsException":       allowAll("java/lang/Throwable", nil),
	"java/lang/ArrayIndexOutOfBoundsException":  allowAll("java/lang/Throwable", nil),
	"java/lang/StringIndexOutOfBoundsException": allowAll("java/lang/Throwable", nil),
	"java/lang/NegativeArraySizeException":      allowAll("java/lang/Throwable", nil),
	"java/lang/ArrayStoreException":             allowAll("java/lang/Throwable", nil),
	"java/lang/ClassCastException":              allowAll("java/lang/Throwable", nil),
	"java/lang/NumberFormatException":           allowAll("java/lang/Throwable", nil),
	"java/lang/UnsupportedOperationException":   allowAll("java/lang/Throwable", nil),
	"java/lang/CloneNotSupportedException":      allowAll("java/lang/Throwable", nil),
	"java/lang/MatchException":                  allowAll("java/lang/Throwable", nil),
	"java/util/NoSuchElementException":          allowAll("java/lang/Throwable", nil),
	"java/util/ConcurrentModificationException": allowAll("java/lang/Throwable", nil),
	"java/util/InputMismatchException":          allowAll("java/lang/Throwable", nil),

	// java.util: deterministic collections and helpers.
	"java/util/Collection":                       allowAll("", collectionDeny),
	"java/util/AbstractCollection":               allowAll("java/lang/Object", collectionDeny),
	"java/util/List":                             allowAll("", collectionDeny),
	"java/util/AbstractList":                     allowAll("java/lang/Object", collectionDeny),
	"java/util/ArrayList":                        allowAll("java/lang/Object", collectionDeny),
	"java/util/LinkedList":                       allowAll("java/lang/Object", collectionDeny),
	"java/util/Set":                              allowAll("", mergeDeny(collectionDeny, saltedDeny)),
	"java/util/AbstractSet":                      allowAll("java/lang/Object", collectionDeny),
	"java/util/HashSet":                          allowAll("java/lang/Object", collectionDeny),
	"java/util/LinkedHashSet":                    allowAll("java/lang/Object", collectionDeny),
	"java/util/TreeSet":                          allowAll("java/lang/Object", collectionDeny),
	"java/util/SortedSet":                        allowAll("", collectionDeny),
	"java/util/NavigableSet":                     allowAll("", collectionDeny),
	"java/util/EnumSet":                          allowAll("java/lang/Object", collectionDeny),
	"java/util/Map":                              allowAll("", saltedDeny),
	"java/util/Map$Entry":                        allowAll("", nil),
	"java/util/AbstractMap":                      allowAll("java/lang/Object", nil),
	"java/util/AbstractMap$SimpleEntry":          allowAll("java/lang/Object", nil),
	"java/util/AbstractMap$SimpleImmutableEntry": allowAll("java/lang/Object", nil),
	"java/util/HashMap":                          allowAll("java/lang/Object", nil),
	"java/util/LinkedHashMap":                    allowAll("java/lang/Object", nil),
	"java/util/TreeMap":                          allowAll("java/lang/Object", nil),
	"java/util/EnumMap":                          allowAll("java/lang/Object", nil),
	"java/util/SortedMap":                        allowAll("", nil),
	"java/util/NavigableMap":                     allowAll("", nil),
	"java/util/Queue":                            allowAll("", collectionDeny),
	"java/util/Deque":                            allowAll("", collectionDeny),
	"java/util/ArrayDeque":                       allowAll("java/lang/Object", collectionDeny),
	"java/util/PriorityQueue":                    allowAll("java/lang/Object", collectionDeny),
	"java/util/Iterator":                         allowAll("", nil),
	"java/util/ListIterator":                     allowAll("", nil),
	"java/util/Comparator":                       allowAll("", nil),
	"java/util/Objects":                          allowAll("java/lang/Object", nil),
	"java/util/Optional":                         allowAll("java/lang/Object", nil),
	"java/util/OptionalInt":                      allowAll("java/lang/Object", nil),
	"java/util/OptionalLong":                     allowAll("java/lang/Object", nil),
	"java/util/OptionalDouble":                   allowAll("java/lang/Object", nil),
	"java/util/BitSet":                           allowAll("java/lang/Object", nil),
	"java/util/StringJoiner":                     allowAll("java/lang/Object", nil),
	"java/util/Base64":                           allowAll("java/lang/Object", nil),
	"java/util/Base64$Encoder":                   allowAll("java/lang/Object", nil),
	"java/util/Base64$Decoder":                   allowAll("java/lang/Object", nil),
	"java/util/HexFormat":                        allowAll("java/lang/Object", nil),
	"java/util/Arrays": allowAll("java/lang/Object", map[string]string{
		"parallelSort": whyParallel, "parallelPrefix": whyParallel, "parallelSetAll": whyParallel,
	}),
	"java/util/Collections": allowAll("java/lang/Object", map[string]string{"shuffle": whyRandom}),
	"java/util/UUID":        allowAll("java/lang/Object", map[string]string{"randomUUID": whyRandom}),
	"java/util/Locale": {only: set("ROOT", "ENGLISH", "US", "UK"), denyMember: map[string]string{
		"getDefault": whyEnv, "setDefault": whyEnv}},
	"java/util/Random":                   {deny: whyRandom},
	"java/util/SplittableRandom":         {deny: whyRandom},
	"java/util/Date":                     {deny: whyClock},
	"java/util/Calendar":                 {deny: whyClock},
	"java/util/GregorianCalendar":        {deny: whyClock},
	"java/util/TimeZone":                 {deny: whyClock},
	"java/util/Timer":                    {deny: whyThreads},
	"java/util/TimerTask":                {deny: whyThreads},
	"java/util/Scanner":                  {deny: whyIO},
	"java/util/Properties":               {deny: whyIO},
	"java/util/ResourceBundle":           {deny: whyIO},
	"java/util/ServiceLoader":            {deny: whyLoading},
	"java/util/Formatter":                {deny: whyEnv},
	"java/util/WeakHashMap":              {deny: whyGC},
	"java/util/IdentityHashMap":          {deny: whyIdentity},
	"java/util/Spliterator":              allowAll("", nil),
	"java/util/Spliterators":             allowAll("java/lang/Object", nil),
	"java/util/PrimitiveIterator$OfInt":  allowAll("", nil),
	"java/util/PrimitiveIterator$OfLong": allowAll("", nil),

	// java.math
	"java/math/BigInteger": allowAll("java/lang/Number", map[string]string{
		"probablePrime": whyPrime, "isProbablePrime": whyPrime, "nextProbablePrime": whyPrime}),
	"java/math/BigDecimal":   allowAll("java/lang/Number", nil),
	"java/math/MathContext":  allowAll("java/lang/Object", nil),
	"java/math/RoundingMode": allowAll("java/lang/Enum", nil),

	// java.nio: only the fixed charsets (for String <-> bytes with an
	// explicit charset) and heap byte buffers.
	"java/nio/charset/StandardCharsets": {only: set("UTF_8", "US_ASCII", "ISO_8859_1", "UTF_16BE", "UTF_16LE")},
	"java/nio/charset/Charset":          {only: set("name", "equals", "hashCode", "toString")},
	"java/nio/ByteBuffer":               allowAll("java/lang/Object", map[string]string{"allocateDirect": "direct buffers live outside the heap"}),
	"java/nio/Buffer":                   allowAll("java/lang/Object", nil),
	"java/nio/ByteOrder":                {only: set("BIG_ENDIAN", "LITTLE_ENDIAN", "toString"), denyMember: map[string]string{"nativeOrder": whyEnv}},
	"java/nio/BufferUnderflowException": allowAll("java/lang/Throwable", nil),
	"java/nio/BufferOverflowException":  allowAll("java/lang/Throwable", nil),

	// java.time: the value types, without now() and the system zone.
	"java/time/Instant":                 allowAll("java/lang/Object", timeDeny),
	"java/time/Duration":                allowAll("java/lang/Object", timeDeny),
	"java/time/LocalDate":               allowAll("java/lang/Object", timeDeny),
	"java/time/LocalTime":               allowAll("java/lang/Object", timeDeny),
	"java/time/LocalDateTime":           allowAll("java/lang/Object", timeDeny),
	"java/time/Period":                  allowAll("java/lang/Object", timeDeny),
	"java/time/ZoneOffset":              allowAll("java/lang/Object", timeDeny),
	"java/time/DayOfWeek":               allowAll("java/lang/Enum", timeDeny),
	"java/time/Month":                   allowAll("java/lang/Enum", timeDeny),
	"java/time/Clock":                   {deny: whyClock},
	"java/time/InstantSource":           {deny: whyClock},
	"java/time/ZoneId":                  {deny: whyEnv},
	"java/time/ZonedDateTime":           {deny: whyEnv},
	"java/time/OffsetDateTime":          {deny: whyEnv},
	"java/time/DateTimeException":       allowAll("java/lang/Throwable", nil),
	"java/time/temporal/ChronoUnit":     allowAll("java/lang/Enum", nil),
	"java/time/temporal/TemporalUnit":   allowAll("", nil),
	"java/time/temporal/TemporalAmount": allowAll("", nil),

	// java.security: only message digests (SHA-256 and friends are
	// specified bit for bit); SecureRandom and the rest are refused.
	"java/security/MessageDigest":            {only: set("getInstance", "update", "digest", "reset", "getDigestLength", "isEqual", "getAlgorithm")},
	"java/security/NoSuchAlgorithmException": allowAll("java/lang/Throwable", nil),
	"java/security/GeneralSecurityException": allowAll("java/lang/Throwable", nil),
	"java/security/SecureRandom":             {deny: whyRandom},
}

// Packages whose every class is allowed as long as it has no rule of its
// own: functional interfaces and sequential streams.
var allowedPackages = map[string]map[string]string{
	"java/util/function/": nil,
	"java/util/stream/":   streamDeny,
}

// classVerdict decides a JDK (non-contract) class: "" when it may be used,
// else the reason it may not.
func classVerdict(name string) string {
	if strings.HasPrefix(name, SDKRuntimePackage) {
		return whySDKRuntime
	}
	if strings.HasPrefix(name, SDKPackage) && !strings.Contains(name[len(SDKPackage):], "/") {
		return ""
	}
	if r, ok := rules[name]; ok {
		return r.deny
	}
	for _, p := range deniedPackages {
		if strings.HasPrefix(name, p.prefix) {
			return p.why
		}
	}
	for p := range allowedPackages {
		if strings.HasPrefix(name, p) && !strings.Contains(name[len(p):], "/") {
			return ""
		}
	}
	return whyNotListed
}

// memberVerdict decides a member of a JDK class whose classVerdict is "":
// "" when it may be used, else why not.
func memberVerdict(owner, name, desc string) string {
	if why, ok := globalDeny[name]; ok {
		return why
	}
	if strings.HasPrefix(owner, SDKPackage) {
		return ""
	}
	r, ok := rules[owner]
	if !ok {
		for p, deny := range allowedPackages {
			if strings.HasPrefix(owner, p) {
				if why, ok := deny[name]; ok {
					return why
				}
				return ""
			}
		}
		return whyNotListed
	}
	for cur, depth := r, 0; cur != nil && depth < 8; depth++ {
		if why, ok := cur.denyMember[name+desc]; ok {
			return why
		}
		if why, ok := cur.denyMember[name]; ok {
			return why
		}
		if cur.parent == "" {
			break
		}
		cur = rules[cur.parent]
	}
	if r.only != nil && !r.only[name] {
		return "is not on the allow-list"
	}
	return ""
}
