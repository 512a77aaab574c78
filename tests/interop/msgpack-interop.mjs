// Cross-language check of FastChat.Protocol's MessagePack codec against @msgpack/msgpack.
// Driven by tests/FastChat.Protocol.Tests/MessagePack/InteropTests.cs; one process per direction:
//
//   node msgpack-interop.mjs decode   stdin  {"cases":[{"name":"...","base64":"..."}]}   (encoded by C#)
//                                     stdout {"results":[{"name":"...","ok":true|false,"message":"..."}]}
//   node msgpack-interop.mjs encode   stdin  {"names":["...", ...]}
//                                     stdout {"cases":[{"name":"...","base64":"..."}]}   (decoded by C#)
//
// The values below are the expectations; InteropTests.cs holds the same corpus under the same names.
import { readFileSync } from "node:fs";
import {
  decode,
  encode,
  ExtData,
  ExtensionCodec,
  EXT_TIMESTAMP,
  encodeTimeSpecToTimestamp,
  decodeTimestampToTimeSpec,
} from "@msgpack/msgpack";

// A timestamp with full nanosecond precision, which Date (milliseconds) cannot hold.
class TimeSpec {
  constructor(sec, nsec) {
    this.sec = sec;
    this.nsec = nsec;
  }
}

// Replaces the library's Date-based timestamp codec for the cases that need nanoseconds.
const timeSpecCodec = new ExtensionCodec();
timeSpecCodec.register({
  type: EXT_TIMESTAMP,
  encode: (value) => (value instanceof TimeSpec ? encodeTimeSpecToTimestamp(value) : null),
  decode: (data) => {
    const { sec, nsec } = decodeTimestampToTimeSpec(data);
    return new TimeSpec(sec, nsec);
  },
});

const text = (length) => Array.from({ length }, (_, i) => String.fromCharCode(97 + (i % 26))).join("");
const pattern = (length) => Uint8Array.from({ length }, (_, i) => (i * 31 + 7) & 0xff);
const array = (length) => Array.from({ length }, (_, i) => i & 0x7f);
const map = (length) => Object.fromEntries(Array.from({ length }, (_, i) => ["k" + i, i]));
const ext = (type, length) => new ExtData(type, pattern(length));
// A FastChat MessageId: 16 bytes, (n * 16 + i) & 0xff (InteropTests.cs InteropId(n)).
const messageId = (n) => Uint8Array.from({ length: 16 }, (_, i) => (n * 16 + i) & 0xff);

// name -> [expected value, uses the nanosecond timestamp codec]
const corpus = new Map([
  ["nil", [null]],
  ["true", [true]],
  ["false", [false]],
  ["uint-0", [0]],
  ["uint-127", [127]],
  ["uint-128", [128]],
  ["uint-255", [255]],
  ["uint-256", [256]],
  ["uint-65535", [65535]],
  ["uint-65536", [65536]],
  ["uint-4294967295", [4294967295]],
  ["uint-4294967296", [4294967296n]],
  ["uint-int64-max", [9223372036854775807n]],
  ["uint-uint64-max", [18446744073709551615n]],
  ["int-minus-1", [-1]],
  ["int-minus-32", [-32]],
  ["int-minus-33", [-33]],
  ["int-minus-128", [-128]],
  ["int-minus-129", [-129]],
  ["int-minus-32768", [-32768]],
  ["int-minus-32769", [-32769]],
  ["int-minus-2147483648", [-2147483648]],
  ["int-minus-2147483649", [-2147483649n]],
  ["int-int64-min", [-9223372036854775808n]],
  ["float32-1.5", [1.5]],
  ["float32-max", [Math.fround(3.4028234663852886e38)]],
  ["float32-epsilon", [Math.fround(1.401298464324817e-45)]],
  ["float32-minus-infinity", [-Infinity]],
  ["float32-nan", [NaN]],
  ["float64-pi", [Math.PI]],
  ["float64-0.1", [0.1]],
  ["float64-max", [Number.MAX_VALUE]],
  ["float64-min", [-Number.MAX_VALUE]],
  ["float64-epsilon", [Number.MIN_VALUE]],
  ["float64-infinity", [Infinity]],
  ["float64-nan", [NaN]],
  ["float64-minus-zero", [-0]],
  ["str-0", [""]],
  ["str-31", [text(31)]],
  ["str-32", [text(32)]],
  ["str-255", [text(255)]],
  ["str-256", [text(256)]],
  ["str-65535", [text(65535)]],
  ["str-65536", [text(65536)]],
  ["str-unicode", ["héllo wörld ✓ 🚀 日本語 \u0000 end"]],
  ["bin-0", [pattern(0)]],
  ["bin-1", [pattern(1)]],
  ["bin-255", [pattern(255)]],
  ["bin-256", [pattern(256)]],
  ["bin-65535", [pattern(65535)]],
  ["bin-65536", [pattern(65536)]],
  ["array-0", [array(0)]],
  ["array-15", [array(15)]],
  ["array-16", [array(16)]],
  ["array-65535", [array(65535)]],
  ["array-65536", [array(65536)]],
  ["map-0", [map(0)]],
  ["map-15", [map(15)]],
  ["map-16", [map(16)]],
  ["map-65535", [map(65535)]],
  ["map-65536", [map(65536)]],
  ["nested", [[1, { a: [true, null, "x"], b: { c: -5 } }, [[[]]], Uint8Array.of(1, 2, 3)]]],
  ["ext-fixext1", [ext(1, 1)]],
  ["ext-fixext2", [ext(2, 2)]],
  ["ext-fixext4", [ext(4, 4)]],
  ["ext-fixext8", [ext(8, 8)]],
  ["ext-fixext16", [ext(16, 16)]],
  ["ext-ext8-0", [ext(20, 0)]],
  ["ext-ext8-3", [ext(21, 3)]],
  ["ext-ext8-255", [ext(22, 255)]],
  ["ext-ext16-256", [ext(23, 256)]],
  ["ext-ext16-65535", [ext(24, 65535)]],
  ["ext-ext32-65536", [ext(127, 65536)]],
  ["timestamp32-epoch", [new Date(0)]],
  ["timestamp32", [new Date("2021-06-15T12:34:56.000Z")]],
  ["timestamp32-max", [new Date(4294967295 * 1000)]],
  ["timestamp64-ms", [new Date("2021-06-15T12:34:56.789Z")]],
  ["timestamp64-first", [new Date(4294967296 * 1000)]],
  ["timestamp64-max", [new Date(17179869183999)]],
  ["timestamp96-minus-1s", [new Date(-1000)]],
  ["timestamp96-minus-500ms", [new Date(-500)]],
  ["timestamp96-1900", [new Date("1900-01-01T00:00:00.000Z")]],
  ["timestamp96-3000", [new Date("3000-01-01T00:00:00.000Z")]],
  ["timestamp96-year1", [new Date("0001-01-01T00:00:00.000Z")]],
  ["timestamp96-year9999", [new Date("9999-12-31T23:59:59.999Z")]],
  ["timestamp64-100ns", [new TimeSpec(1700000000, 123456700), true]],
  ["timestamp96-minus-100ns", [new TimeSpec(-1, 999999900), true]],
  // FastChat messages of the ack-batch feature: [opcode, requestId, fields...].
  ["message-ackbatch", [[0x24, 0, [messageId(0), messageId(1)]]]],
  ["message-deliveredbatch", [[0x25, 0, "bob", [messageId(2)]]]],
]);

function options(usesTimeSpec) {
  return usesTimeSpec ? { useBigInt64: true, extensionCodec: timeSpecCodec } : { useBigInt64: true };
}

// Returns null when equal, otherwise where and how they differ. Types must match exactly
// (a bigint is not a number), and -0 is not 0.
function difference(actual, expected, path = "$") {
  const describe = (v) => (typeof v === "bigint" ? `${v}n` : Object.is(v, -0) ? "-0" : String(v));
  if (expected === null || typeof expected !== "object") {
    if (typeof expected === "number" && Number.isNaN(expected)) {
      return Number.isNaN(actual) ? null : `${path}: expected NaN, got ${describe(actual)}`;
    }
    return typeof actual === typeof expected && Object.is(actual, expected)
      ? null
      : `${path}: expected ${typeof expected} ${describe(expected)}, got ${typeof actual} ${describe(actual)}`;
  }
  if (expected instanceof Date) {
    return actual instanceof Date && actual.getTime() === expected.getTime()
      ? null
      : `${path}: expected Date ${expected.toISOString()}, got ${actual instanceof Date ? actual.toISOString() : describe(actual)}`;
  }
  if (expected instanceof TimeSpec) {
    return actual instanceof TimeSpec && actual.sec === expected.sec && actual.nsec === expected.nsec
      ? null
      : `${path}: expected ${expected.sec} s ${expected.nsec} ns, got ${JSON.stringify(actual)}`;
  }
  if (expected instanceof ExtData) {
    if (!(actual instanceof ExtData)) return `${path}: expected ExtData, got ${describe(actual)}`;
    if (actual.type !== expected.type) return `${path}: expected ext type ${expected.type}, got ${actual.type}`;
    return difference(actual.data, expected.data, `${path}.data`);
  }
  if (expected instanceof Uint8Array) {
    if (!(actual instanceof Uint8Array)) return `${path}: expected Uint8Array, got ${describe(actual)}`;
    if (actual.length !== expected.length) return `${path}: expected ${expected.length} bytes, got ${actual.length}`;
    const at = expected.findIndex((b, i) => actual[i] !== b);
    return at < 0 ? null : `${path}[${at}]: expected byte ${expected[at]}, got ${actual[at]}`;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${path}: expected an array, got ${describe(actual)}`;
    if (actual.length !== expected.length) return `${path}: expected ${expected.length} elements, got ${actual.length}`;
    for (let i = 0; i < expected.length; i++) {
      const d = difference(actual[i], expected[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (actual === null || typeof actual !== "object" || Array.isArray(actual)) {
    return `${path}: expected a map, got ${describe(actual)}`;
  }
  const expectedKeys = Object.keys(expected);
  const actualKeys = Object.keys(actual);
  if (actualKeys.join("\u0001") !== expectedKeys.join("\u0001")) {
    return `${path}: expected keys ${expectedKeys.slice(0, 5)}... (${expectedKeys.length}), got ${actualKeys.slice(0, 5)}... (${actualKeys.length})`;
  }
  for (const key of expectedKeys) {
    const d = difference(actual[key], expected[key], `${path}.${key}`);
    if (d) return d;
  }
  return null;
}

function decodeCases({ cases }) {
  return {
    results: cases.map(({ name, base64 }) => {
      const entry = corpus.get(name);
      if (!entry) return { name, ok: false, message: "unknown case name" };
      const [expected, usesTimeSpec] = entry;
      try {
        const actual = decode(Buffer.from(base64, "base64"), options(usesTimeSpec));
        const message = difference(actual, expected);
        return { name, ok: message === null, message: message ?? "" };
      } catch (error) {
        return { name, ok: false, message: `decode failed: ${error}` };
      }
    }),
  };
}

function encodeCases({ names }) {
  return {
    cases: names.map((name) => {
      const entry = corpus.get(name);
      if (!entry) throw new Error(`unknown case name ${name}`);
      const [value, usesTimeSpec] = entry;
      return { name, base64: Buffer.from(encode(value, options(usesTimeSpec))).toString("base64") };
    }),
  };
}

const mode = process.argv[2];
const input = JSON.parse(readFileSync(0, "utf8"));
if (mode === "decode") {
  process.stdout.write(JSON.stringify(decodeCases(input)));
} else if (mode === "encode") {
  process.stdout.write(JSON.stringify(encodeCases(input)));
} else {
  process.stderr.write("usage: node msgpack-interop.mjs decode|encode < input.json\n");
  process.exitCode = 2;
}
